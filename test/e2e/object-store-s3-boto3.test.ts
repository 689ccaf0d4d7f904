import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { openstack, startServer, type RunningServer, adminEnv } from '../helpers/server.js';

/**
 * Drives the S3 API of a real `nubes start` with Debian's python3-boto3: EC2 credentials from
 * python3-openstackclient, then the calls an S3 application makes, including a 20 MiB
 * multipart upload through boto3's transfer manager and a presigned GET.
 */
const SCRIPT = String.raw`
import hashlib, io, json, os, sys, urllib.request
import boto3
from botocore.config import Config
from boto3.s3.transfer import TransferConfig

s3 = boto3.client('s3', endpoint_url=os.environ['S3_URL'], aws_access_key_id=os.environ['S3_ACCESS'],
                  aws_secret_access_key=os.environ['S3_SECRET'], region_name='us-east-1',
                  config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
out = {}
s3.create_bucket(Bucket='e2e-bucket')
out['buckets'] = [b['Name'] for b in s3.list_buckets()['Buckets']]
s3.put_object(Bucket='e2e-bucket', Key='dir/a.txt', Body=b'alpha', Metadata={'color': 'red'})
s3.put_object(Bucket='e2e-bucket', Key='dir/sub/b.txt', Body=b'beta')
s3.put_object(Bucket='e2e-bucket', Key='top.txt', Body=b'top')
head = s3.head_object(Bucket='e2e-bucket', Key='dir/a.txt')
out['meta'] = head['Metadata']
out['get'] = s3.get_object(Bucket='e2e-bucket', Key='dir/a.txt')['Body'].read().decode()
out['range'] = s3.get_object(Bucket='e2e-bucket', Key='dir/a.txt', Range='bytes=1-3')['Body'].read().decode()
listing = s3.list_objects_v2(Bucket='e2e-bucket', Delimiter='/')
out['v2_keys'] = [o['Key'] for o in listing.get('Contents', [])]
out['v2_prefixes'] = [p['Prefix'] for p in listing.get('CommonPrefixes', [])]
out['v1_keys'] = [o['Key'] for o in s3.list_objects(Bucket='e2e-bucket', Prefix='dir/')['Contents']]
pages = s3.get_paginator('list_objects_v2').paginate(Bucket='e2e-bucket', PaginationConfig={'PageSize': 1})
out['paged'] = [o['Key'] for p in pages for o in p.get('Contents', [])]

data = bytes(range(256)) * (20 * 1024 * 4)
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
s3.upload_fileobj(io.BytesIO(data), 'e2e-bucket', 'big.bin', Config=cfg)
big = s3.head_object(Bucket='e2e-bucket', Key='big.bin')
out['big_size'] = big['ContentLength']
out['big_etag'] = big['ETag']
buf = io.BytesIO()
s3.download_fileobj('e2e-bucket', 'big.bin', buf)
out['big_ok'] = hashlib.md5(buf.getvalue()).hexdigest() == hashlib.md5(data).hexdigest()

s3.copy_object(Bucket='e2e-bucket', Key='copy.txt', CopySource={'Bucket': 'e2e-bucket', 'Key': 'top.txt'})
url = s3.generate_presigned_url('get_object', Params={'Bucket': 'e2e-bucket', 'Key': 'copy.txt'}, ExpiresIn=300)
out['presigned'] = urllib.request.urlopen(url).read().decode()
try:
    s3.get_object(Bucket='e2e-bucket', Key='missing')
except s3.exceptions.NoSuchKey as e:
    out['missing'] = e.response['Error']['Code']
try:
    s3.delete_bucket(Bucket='e2e-bucket')
except Exception as e:
    out['not_empty'] = e.response['Error']['Code']
keys = [o['Key'] for o in s3.list_objects_v2(Bucket='e2e-bucket')['Contents']]
res = s3.delete_objects(Bucket='e2e-bucket', Delete={'Objects': [{'Key': k} for k in keys]})
out['deleted'] = sorted(d['Key'] for d in res['Deleted'])
s3.delete_bucket(Bucket='e2e-bucket')
out['after'] = [b['Name'] for b in s3.list_buckets()['Buckets']]
print(json.dumps(out))
`;

describe('e2e: S3 API with python3-boto3', () => {
  let server: RunningServer;
  let env: Record<string, string>;

  before(async () => {
    assert.ok(existsSync('/usr/bin/openstack'), 'python3-openstackclient must be installed');
    server = await startServer();
    env = adminEnv(server);
  });
  after(async () => {
    await server?.stop();
  });

  it('runs an S3 application end to end', (t) => {
    const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip('python3-boto3 is not installed (apt-get install python3-boto3)');
      return;
    }
    const created = openstack(['ec2', 'credentials', 'create', '-f', 'json'], env);
    assert.equal(created.status, 0, created.stderr);
    const cred = JSON.parse(created.stdout) as { access: string; secret: string };
    const run = spawnSync('python3', ['-c', SCRIPT], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', S3_URL: `${server.url}/object-store/s3`, S3_ACCESS: cred.access, S3_SECRET: cred.secret, NO_PROXY: '*' },
    });
    assert.equal(run.status, 0, `boto3 script failed:\n${run.stderr}\n${run.stdout}\n--- server ---\n${server.output().slice(-4000)}`);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(out.buckets, ['e2e-bucket']);
    assert.deepEqual(out.meta, { color: 'red' });
    assert.equal(out.get, 'alpha');
    assert.equal(out.range, 'lph');
    assert.deepEqual(out.v2_keys, ['top.txt']);
    assert.deepEqual(out.v2_prefixes, ['dir/']);
    assert.deepEqual(out.v1_keys, ['dir/a.txt', 'dir/sub/b.txt']);
    assert.deepEqual(out.paged, ['dir/a.txt', 'dir/sub/b.txt', 'top.txt']);
    assert.equal(out.big_size, 20 * 1024 * 1024);
    assert.match(String(out.big_etag), /^"[0-9a-f]{32}-4"$/);
    assert.equal(out.big_ok, true);
    assert.equal(out.presigned, 'top');
    assert.equal(out.missing, 'NoSuchKey');
    assert.equal(out.not_empty, 'BucketNotEmpty');
    assert.deepEqual(out.deleted, ['big.bin', 'copy.txt', 'dir/a.txt', 'dir/sub/b.txt', 'top.txt']);
    assert.deepEqual(out.after, []);
  });
});
