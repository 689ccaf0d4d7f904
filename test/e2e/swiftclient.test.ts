import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, adminEnv } from '../helpers/server.js';

/** Drives a real `nubes start` with Debian's python3-swiftclient (/usr/bin/swift). */
describe('e2e: object storage with python3-swiftclient', () => {
  let server: RunningServer;
  let env: Record<string, string>;
  let work: string;
  const swift = (args: string[]) => {
    const res = spawnSync('/usr/bin/swift', args, { env: { ...process.env, ...env }, cwd: work, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, `swift ${args.join(' ')} failed:\n${res.stderr}\n${res.stdout}`);
    return res.stdout;
  };

  before(async () => {
    assert.ok(existsSync('/usr/bin/swift'), 'python3-swiftclient must be installed');
    server = await startServer();
    work = mkdtempSync(join(tmpdir(), 'nubes-swift-'));
    env = { ...adminEnv(server), OS_AUTH_VERSION: '3' };
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('stat, post, upload with segments, list, download, tempurl, delete', async () => {
    assert.match(swift(['stat']), /Containers: 0/);
    swift(['post', 'photos', '-m', 'color:blue']);
    assert.match(swift(['stat', 'photos']), /Meta Color: blue/);
    const data = randomBytes(5000);
    writeFileSync(join(work, 'big.bin'), data);
    writeFileSync(join(work, 'small.txt'), 'hello swift');
    swift(['upload', 'photos', 'big.bin', '--segment-size', '1024']);
    swift(['upload', 'photos', 'small.txt']);
    assert.deepEqual(swift(['list', 'photos', '--prefix', 'big']).trim().split('\n'), ['big.bin']);
    assert.match(swift(['list']), /photos_segments/);
    swift(['download', 'photos', 'big.bin', '-o', 'out.bin']);
    assert.ok(readFileSync(join(work, 'out.bin')).equals(data));

    const stat = swift(['stat']);
    const account = /Account: (\S+)/.exec(stat)?.[1] as string;
    swift(['post', '-m', 'Temp-URL-Key:sekrit']);
    const signed = swift(['tempurl', 'GET', '3600', `/v1/${account}/photos/small.txt`, 'sekrit']).trim();
    const res = await fetch(`${server.url}/object-store${signed}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello swift');
    const anon = await fetch(`${server.url}/object-store/v1/${account}/photos/small.txt`);
    assert.equal(anon.status, 401);

    swift(['delete', 'photos', 'big.bin']);
    assert.equal(swift(['list', 'photos_segments']).trim(), '');
    swift(['delete', '--all']);
    assert.match(swift(['stat']), /Containers: 0/);
  });
});
