import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ACCESS, amzDate, encodePath, md5b64, md5hex, MOUNT, presign, SECRET, startS3Rig, tags, type S3TestRig } from './s3-client.js';
import { canonicalRequestV4, chunkStringToSign, EMPTY_SHA256, sha256Hex, signingKeyV4, signV4, stringToSignV4 } from '../../../src/services/object-store/s3/sigv4.js';

describe('S3 API over MemoryCluster', () => {
  let s3: S3TestRig;
  before(async () => {
    s3 = await startS3Rig();
  });
  after(async () => s3.close());

  test('buckets: create, head, list, duplicate, invalid name, delete', async () => {
    let r = await s3.req('PUT', '/alpha');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.headers['x-amz-request-id']);
    r = await s3.req('HEAD', '/alpha');
    assert.equal(r.status, 200);
    r = await s3.req('PUT', '/alpha');
    assert.equal(r.status, 409);
    assert.deepEqual(tags(r.text, 'Code'), ['BucketAlreadyOwnedByYou']);
    r = await s3.req('PUT', '/Bad_Name');
    assert.equal(r.status, 400);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidBucketName']);
    r = await s3.req('PUT', '/beta', { body: '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-9</LocationConstraint></CreateBucketConfiguration>' });
    assert.equal(r.status, 400);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidLocationConstraint']);
    r = await s3.req('GET', '/');
    assert.equal(r.status, 200);
    assert.deepEqual(tags(r.text, 'Name'), ['alpha']);
    assert.match(r.text, /<ListAllMyBucketsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Owner><ID>p1<\/ID>/);
    // The bucket is the container of the project's Swift account.
    assert.ok(await s3.cluster.headContainer('AUTH_p1', 'alpha'));
    r = await s3.req('HEAD', '/nope');
    assert.equal(r.status, 404);
    assert.equal(r.text, '');
  });

  test('objects: put with metadata and Content-MD5, get, head, conditional, range, delete', async () => {
    await s3.req('PUT', '/objs');
    const body = 'hello, object store';
    let r = await s3.req('PUT', '/objs/dir/hello world.txt', { body, headers: { 'content-type': 'text/plain', 'x-amz-meta-color': 'blue', 'content-md5': md5b64(body) } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${md5hex(body)}"`);
    r = await s3.req('GET', '/objs/dir/hello world.txt');
    assert.equal(r.status, 200);
    assert.equal(r.text, body);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['x-amz-meta-color'], 'blue');
    assert.equal(r.headers['accept-ranges'], 'bytes');
    r = await s3.req('HEAD', '/objs/dir/hello world.txt');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(body.length));
    assert.equal(r.text, '');
    r = await s3.req('GET', '/objs/dir/hello world.txt', { headers: { range: 'bytes=7-12' } });
    assert.equal(r.status, 206);
    assert.equal(r.text, 'object');
    assert.equal(r.headers['content-range'], `bytes 7-12/${body.length}`);
    r = await s3.req('GET', '/objs/dir/hello world.txt', { headers: { range: 'bytes=-5' } });
    assert.equal(r.text, 'store');
    r = await s3.req('GET', '/objs/dir/hello world.txt', { headers: { range: 'bytes=100-' } });
    assert.equal(r.status, 416);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidRange']);
    r = await s3.req('GET', '/objs/dir/hello world.txt', { headers: { 'if-none-match': `"${md5hex(body)}"` } });
    assert.equal(r.status, 304);
    r = await s3.req('GET', '/objs/dir/hello world.txt', { headers: { 'if-match': '"0000"' } });
    assert.equal(r.status, 412);
    assert.deepEqual(tags(r.text, 'Code'), ['PreconditionFailed']);
    r = await s3.req('GET', '/objs/dir/hello world.txt', { query: [['response-content-type', 'application/x-test']] });
    assert.equal(r.headers['content-type'], 'application/x-test');
    // A wrong Content-MD5 is refused and nothing is stored.
    r = await s3.req('PUT', '/objs/bad', { body: 'abc', headers: { 'content-md5': md5b64('abd') } });
    assert.equal(r.status, 400);
    assert.deepEqual(tags(r.text, 'Code'), ['BadDigest']);
    r = await s3.req('PUT', '/objs/bad', { body: 'abc', headers: { 'content-md5': 'not-base64!' } });
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidDigest']);
    assert.equal((await s3.req('HEAD', '/objs/bad')).status, 404);
    // A body that does not match x-amz-content-sha256 is refused and not stored.
    r = await s3.req('PUT', '/objs/bad', { body: 'abc', declaredSha256: createHash('sha256').update('abd').digest('hex') });
    assert.equal(r.status, 400);
    assert.deepEqual(tags(r.text, 'Code'), ['XAmzContentSHA256Mismatch']);
    assert.equal((await s3.req('HEAD', '/objs/bad')).status, 404);

    r = await s3.req('GET', '/objs/missing');
    assert.equal(r.status, 404);
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchKey']);
    assert.deepEqual(tags(r.text, 'Key'), ['missing']);
    assert.deepEqual(tags(r.text, 'Resource'), ['/objs/missing']);
    assert.equal(tags(r.text, 'RequestId').length, 1);
    r = await s3.req('GET', '/nobucket/x');
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchBucket']);

    r = await s3.req('DELETE', '/objs');
    assert.equal(r.status, 409);
    assert.deepEqual(tags(r.text, 'Code'), ['BucketNotEmpty']);
    r = await s3.req('DELETE', '/objs/dir/hello world.txt');
    assert.equal(r.status, 204);
    r = await s3.req('DELETE', '/objs/dir/hello world.txt');
    assert.equal(r.status, 204);
    r = await s3.req('DELETE', '/objs');
    assert.equal(r.status, 204);
  });

  test('listing v1 and v2: prefix, delimiter, pagination, url encoding', async () => {
    await s3.req('PUT', '/list');
    const keys = ['a.txt', 'photos/2006/jan/1.jpg', 'photos/2006/feb/2.jpg', 'photos/2007/3.jpg', 'photos/top.jpg', 'zeta', 'sp ace'];
    for (const k of keys) assert.equal((await s3.req('PUT', `/list/${k}`, { body: k })).status, 200);

    let r = await s3.req('GET', '/list', { query: [['delimiter', '/']] });
    assert.equal(r.status, 200);
    assert.deepEqual(tags(r.text, 'Key'), ['a.txt', 'sp ace', 'zeta']);
    assert.deepEqual(tags(r.text, 'Prefix').slice(1), ['photos/']);
    r = await s3.req('GET', '/list', { query: [['prefix', 'photos/'], ['delimiter', '/']] });
    assert.deepEqual(tags(r.text, 'Key'), ['photos/top.jpg']);
    assert.deepEqual(tags(r.text, 'Prefix').slice(1), ['photos/2006/', 'photos/2007/']);
    // v1 paging with a delimiter returns NextMarker, which may be a common prefix.
    r = await s3.req('GET', '/list', { query: [['delimiter', '/'], ['max-keys', '2']] });
    assert.deepEqual(tags(r.text, 'IsTruncated'), ['true']);
    assert.deepEqual(tags(r.text, 'NextMarker'), ['photos/']);
    r = await s3.req('GET', '/list', { query: [['delimiter', '/'], ['marker', 'photos/']] });
    assert.deepEqual(tags(r.text, 'Key'), ['sp ace', 'zeta']);
    assert.deepEqual(tags(r.text, 'IsTruncated'), ['false']);

    // v2: continuation tokens walk every key exactly once.
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const query: [string, string][] = [['list-type', '2'], ['max-keys', '3']];
      if (token) query.push(['continuation-token', token]);
      r = await s3.req('GET', '/list', { query });
      assert.equal(r.status, 200, r.text);
      seen.push(...tags(r.text, 'Key'));
      assert.equal(Number(tags(r.text, 'KeyCount')[0]), tags(r.text, 'Key').length);
      token = tags(r.text, 'NextContinuationToken')[0];
      if (!token) break;
    }
    assert.deepEqual(seen, [...keys].sort());
    r = await s3.req('GET', '/list', { query: [['list-type', '2'], ['start-after', 'photos/top.jpg']] });
    assert.deepEqual(tags(r.text, 'Key'), ['sp ace', 'zeta']);
    r = await s3.req('GET', '/list', { query: [['list-type', '2'], ['prefix', 'sp'], ['encoding-type', 'url']] });
    assert.deepEqual(tags(r.text, 'Key'), ['sp%20ace']);
    r = await s3.req('GET', '/list', { query: [['max-keys', 'x']] });
    assert.equal(r.status, 400);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidArgument']);
  });

  test('DeleteObjects and CopyObject', async () => {
    await s3.req('PUT', '/multi');
    for (const k of ['one', 'two', 'three']) await s3.req('PUT', `/multi/${k}`, { body: k, headers: { 'x-amz-meta-k': k } });
    let r = await s3.req('PUT', '/multi/copy', { headers: { 'x-amz-copy-source': '/multi/one' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(tags(r.text, 'ETag'), [`"${md5hex('one')}"`]);
    r = await s3.req('GET', '/multi/copy');
    assert.equal(r.text, 'one');
    assert.equal(r.headers['x-amz-meta-k'], 'one');
    r = await s3.req('PUT', '/multi/copy2', { headers: { 'x-amz-copy-source': 'multi/two', 'x-amz-metadata-directive': 'REPLACE', 'x-amz-meta-new': 'yes', 'content-type': 'text/x' } });
    assert.equal(r.status, 200);
    r = await s3.req('HEAD', '/multi/copy2');
    assert.equal(r.headers['x-amz-meta-new'], 'yes');
    assert.equal(r.headers['x-amz-meta-k'], undefined);
    assert.equal(r.headers['content-type'], 'text/x');
    r = await s3.req('PUT', '/multi/one', { headers: { 'x-amz-copy-source': '/multi/one' } });
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidRequest']);
    r = await s3.req('PUT', '/multi/x', { headers: { 'x-amz-copy-source': '/multi/absent' } });
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchKey']);

    const xml = '<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>one</Key></Object><Object><Key>two</Key></Object><Object><Key>never</Key></Object></Delete>';
    r = await s3.req('POST', '/multi', { query: [['delete', '']], body: xml, headers: { 'content-md5': md5b64(xml) } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(tags(r.text, 'Key'), ['one', 'two', 'never']);
    r = await s3.req('POST', '/multi', { query: [['delete', '']], body: '<Delete><Quiet>true</Quiet><Object><Key>three</Key></Object></Delete>' });
    assert.match(r.text, /<DeleteResult xmlns="[^"]+"><\/DeleteResult>/);
    r = await s3.req('POST', '/multi', { query: [['delete', '']], body: '<Delete><Object>' });
    assert.deepEqual(tags(r.text, 'Code'), ['MalformedXML']);
    r = await s3.req('GET', '/multi');
    assert.deepEqual(tags(r.text, 'Key'), ['copy', 'copy2']);
  });

  test('multipart upload of 20 MiB: parts, list, complete (md5-of-md5s ETag), ranged read', async () => {
    await s3.req('PUT', '/big');
    let r = await s3.req('POST', '/big/blob.bin', { query: [['uploads', '']], headers: { 'content-type': 'application/x-blob', 'x-amz-meta-origin': 'test' } });
    assert.equal(r.status, 200, r.text);
    const uploadId = tags(r.text, 'UploadId')[0] ?? '';
    assert.ok(uploadId);
    const partSize = 5 * 1024 * 1024;
    const parts: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const part = Buffer.alloc(partSize);
      for (let j = 0; j < part.length; j += 4096) part.writeUInt32BE(i * 1_000_000 + j, j);
      parts.push(part);
    }
    const etags: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      r = await s3.req('PUT', '/big/blob.bin', { query: [['partNumber', String(i + 1)], ['uploadId', uploadId]], body: parts[i], sign: 'unsigned' });
      assert.equal(r.status, 200, r.text);
      etags.push(String(r.headers.etag));
    }
    r = await s3.req('GET', '/big', { query: [['uploads', '']] });
    assert.deepEqual(tags(r.text, 'UploadId'), [uploadId]);
    r = await s3.req('GET', '/big/blob.bin', { query: [['uploadId', uploadId], ['max-parts', '3']] });
    assert.deepEqual(tags(r.text, 'PartNumber'), ['1', '2', '3']);
    assert.deepEqual(tags(r.text, 'IsTruncated'), ['true']);
    // Segments are hidden from ListBuckets.
    r = await s3.req('GET', '/');
    assert.ok(!r.text.includes('+segments'));

    const complete = (list: [number, string][]): string => `<CompleteMultipartUpload>${list.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    r = await s3.req('POST', '/big/blob.bin', { query: [['uploadId', uploadId]], body: complete([[2, etags[1] ?? ''], [1, etags[0] ?? '']]) });
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidPartOrder']);
    r = await s3.req('POST', '/big/blob.bin', { query: [['uploadId', uploadId]], body: complete([[1, '"deadbeef"']]) });
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidPart']);
    r = await s3.req('POST', '/big/blob.bin', { query: [['uploadId', uploadId]], body: complete(etags.map((e, i) => [i + 1, e])) });
    assert.equal(r.status, 200, r.text);
    const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
    const expectedEtag = `"${createHash('md5').update(md5s).digest('hex')}-4"`;
    assert.deepEqual(tags(r.text, 'ETag'), [expectedEtag]);

    r = await s3.req('HEAD', '/big/blob.bin');
    assert.equal(r.headers['content-length'], String(4 * partSize));
    assert.equal(r.headers.etag, expectedEtag);
    assert.equal(r.headers['content-type'], 'application/x-blob');
    assert.equal(r.headers['x-amz-meta-origin'], 'test');
    r = await s3.req('GET', '/big/blob.bin');
    assert.equal(r.raw.length, 4 * partSize);
    assert.ok(r.raw.equals(Buffer.concat(parts)));
    r = await s3.req('GET', '/big/blob.bin', { headers: { range: `bytes=${partSize - 2}-${partSize + 1}` } });
    assert.ok(r.raw.equals(Buffer.concat(parts).subarray(partSize - 2, partSize + 2)));
    // The upload and its parts are gone.
    r = await s3.req('GET', '/big', { query: [['uploads', '']] });
    assert.deepEqual(tags(r.text, 'UploadId'), []);
    r = await s3.req('GET', '/big/blob.bin', { query: [['uploadId', uploadId]] });
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchUpload']);
  });

  test('multipart: small parts, abort, bad part number', async () => {
    await s3.req('PUT', '/mpu');
    let r = await s3.req('POST', '/mpu/k', { query: [['uploads', '']] });
    const id = tags(r.text, 'UploadId')[0] ?? '';
    const e1 = String((await s3.req('PUT', '/mpu/k', { query: [['partNumber', '1'], ['uploadId', id]], body: 'small' })).headers.etag);
    const e2 = String((await s3.req('PUT', '/mpu/k', { query: [['partNumber', '2'], ['uploadId', id]], body: 'tail' })).headers.etag);
    r = await s3.req('PUT', '/mpu/k', { query: [['partNumber', '0'], ['uploadId', id]], body: 'x' });
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidArgument']);
    r = await s3.req('POST', '/mpu/k', { query: [['uploadId', id]], body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${e2}</ETag></Part></CompleteMultipartUpload>` });
    assert.deepEqual(tags(r.text, 'Code'), ['EntityTooSmall']);
    // A single small part is fine: the last part has no minimum.
    r = await s3.req('DELETE', '/mpu/k', { query: [['uploadId', id]] });
    assert.equal(r.status, 204);
    r = await s3.req('DELETE', '/mpu/k', { query: [['uploadId', id]] });
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchUpload']);
    r = await s3.req('POST', '/mpu/k', { query: [['uploads', '']] });
    const id2 = tags(r.text, 'UploadId')[0] ?? '';
    const only = String((await s3.req('PUT', '/mpu/k', { query: [['partNumber', '1'], ['uploadId', id2]], body: 'just one' })).headers.etag);
    r = await s3.req('POST', '/mpu/k', { query: [['uploadId', id2]], body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${only}</ETag></Part></CompleteMultipartUpload>` });
    assert.equal(r.status, 200, r.text);
    assert.equal((await s3.req('GET', '/mpu/k')).text, 'just one');
    // Deleting the bucket also removes the hidden segments container.
    await s3.req('DELETE', '/mpu/k');
    await s3.req('POST', '/mpu/left', { query: [['uploads', '']] });
    assert.equal((await s3.req('DELETE', '/mpu')).status, 204);
    assert.equal(await s3.cluster.headContainer('AUTH_p1', 'mpu+segments'), null);
  });

  test('authentication: presigned URLs, V2, bad signatures, skew, roles', async () => {
    await s3.req('PUT', '/auth');
    await s3.req('PUT', '/auth/file', { body: 'presigned content' });
    let res = await s3.app.inject({ method: 'GET', url: presign('GET', '/auth/file', 300), headers: { host: 'localhost:80' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, 'presigned content');
    res = await s3.app.inject({ method: 'GET', url: presign('GET', '/auth/file', 60, new Date(Date.now() - 120_000)), headers: { host: 'localhost:80' } });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    res = await s3.app.inject({ method: 'GET', url: presign('GET', '/auth/file', 300, new Date(), 'wrong'), headers: { host: 'localhost:80' } });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /SignatureDoesNotMatch/);

    let r = await s3.req('GET', '/auth/file', { sign: 'v2' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'presigned content');
    r = await s3.req('GET', '/auth/file', { sign: 'none' });
    assert.equal(r.status, 403);
    assert.deepEqual(tags(r.text, 'Code'), ['AccessDenied']);
    r = await s3.req('GET', '/auth/file', { secret: 'nope' });
    assert.deepEqual(tags(r.text, 'Code'), ['SignatureDoesNotMatch']);
    r = await s3.req('GET', '/auth/file', { access: 'UNKNOWN' });
    assert.equal(r.status, 403);
    assert.deepEqual(tags(r.text, 'Code'), ['InvalidAccessKeyId']);
    r = await s3.req('GET', '/auth/file', { date: new Date(Date.now() - 3600_000) });
    assert.deepEqual(tags(r.text, 'Code'), ['RequestTimeTooSkewed']);

    // keystoneauth's rule: reader may read, a user without an operator role may not write.
    s3.principals.set('READER', { userId: 'u2', projectId: 'p1', roles: ['reader'], secret: 's2' });
    r = await s3.req('GET', '/auth/file', { access: 'READER', secret: 's2' });
    assert.equal(r.status, 200);
    r = await s3.req('PUT', '/auth/file', { access: 'READER', secret: 's2', body: 'x' });
    assert.equal(r.status, 403);
    s3.principals.set('OTHER', { userId: 'u3', projectId: 'p2', roles: ['member'], secret: 's3' });
    r = await s3.req('GET', '/auth/file', { access: 'OTHER', secret: 's3' });
    assert.deepEqual(tags(r.text, 'Code'), ['NoSuchBucket']);
  });

  test('aws-chunked bodies: signed chunks verified, unsigned with trailer decoded', async () => {
    await s3.req('PUT', '/chunked');
    const date = new Date();
    const day = amzDate(date).slice(0, 8);
    const scope = `${day}/us-east-1/s3/aws4_request`;
    const key = signingKeyV4(SECRET, day, 'us-east-1', 's3');
    const rawPath = MOUNT + encodePath('/chunked/obj');
    const chunks = [Buffer.alloc(65536, 'a'), Buffer.alloc(1024, 'b')];
    const send = async (tamper: boolean) => {
      const headers: Record<string, string> = {
        'content-encoding': 'aws-chunked',
        host: 'localhost:80',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': amzDate(date),
        'x-amz-decoded-content-length': String(65536 + 1024),
      };
      const signed = Object.keys(headers).sort();
      const seed = signV4(key, stringToSignV4(amzDate(date), scope, canonicalRequestV4({ method: 'PUT', rawPath, query: [], headers }, signed, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')));
      let prev = seed;
      const parts: Buffer[] = [];
      for (const c of [...chunks, Buffer.alloc(0)]) {
        const sig = signV4(key, chunkStringToSign(amzDate(date), scope, prev, c.length ? sha256Hex(c) : EMPTY_SHA256));
        prev = sig;
        const data = tamper && c.length === 1024 ? Buffer.alloc(1024, 'c') : c;
        parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), data, Buffer.from('\r\n'));
      }
      headers.authorization = `AWS4-HMAC-SHA256 Credential=${ACCESS}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${seed}`;
      return s3.app.inject({ method: 'PUT', url: rawPath, headers, payload: Buffer.concat(parts) });
    };
    let res = await send(true);
    assert.equal(res.statusCode, 403, res.body);
    assert.match(res.body, /SignatureDoesNotMatch/);
    assert.equal((await s3.req('HEAD', '/chunked/obj')).status, 404);
    res = await send(false);
    assert.equal(res.statusCode, 200, res.body);
    let r = await s3.req('GET', '/chunked/obj');
    assert.ok(r.raw.equals(Buffer.concat(chunks)));
    assert.equal(r.headers['content-encoding'], undefined);

    // What newer SDKs send by default: unsigned chunks plus a checksum trailer.
    const body = Buffer.concat([Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\n'), Buffer.from('x-amz-checksum-crc32:DUoRhQ==\r\n\r\n')]);
    r = await s3.req('PUT', '/chunked/trailer', {
      body,
      declaredSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '11', 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((await s3.req('GET', '/chunked/trailer')).text, 'hello world');
  });
});
