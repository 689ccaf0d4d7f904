import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openstack, startServer, type RunningServer, adminEnv } from '../helpers/server.js';

const md5File = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path).on('data', (c) => hash.update(c)).on('end', () => resolve(hash.digest('hex'))).on('error', reject);
  });

/** Glance v2 through Debian's python3-openstackclient against a real `nubes start`. */
describe('e2e: image with python3-openstackclient', () => {
  let server: RunningServer;
  let admin: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'nubes-image-e2e-'));
  const source = join(dir, 'disk.raw');
  const os = (args: string[], env: Record<string, string> = admin) => {
    const res = openstack(args, env);
    assert.equal(res.status, 0, `openstack ${args.join(' ')} failed:\n${res.stderr}\n${res.stdout}`);
    return res.stdout;
  };
  const json = (args: string[], env?: Record<string, string>) => JSON.parse(os([...args, '-f', 'json'], env)) as Record<string, any>;

  before(async () => {
    // 200 MiB: random head and tail around a sparse middle, so the checksum covers real data.
    const fd = openSync(source, 'w');
    writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 0);
    ftruncateSync(fd, 200 * (1 << 20));
    writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 199 * (1 << 20));
    closeSync(fd);
    server = await startServer();
    admin = adminEnv(server);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a 200 MiB image, lists it by property, tags it and downloads it intact', async () => {
    json(['image', 'create', '--file', source, '--disk-format', 'raw', '--container-format', 'bare', '--property', 'e2e_kind=disk', 'e2e-image']);
    // The CLI prints the record it created before uploading; read it back once the upload is done.
    const created = json(['image', 'show', 'e2e-image']);
    assert.equal(created.status, 'active');
    const expected = await md5File(source);
    assert.equal(created.checksum, expected);
    assert.equal(Number(created.size), 200 * (1 << 20));

    const listed = json(['image', 'list', '--property', 'e2e_kind=disk']) as unknown as { Name: string }[];
    assert.deepEqual(listed.map((i) => i.Name), ['e2e-image']);

    os(['image', 'set', '--tag', 'golden', 'e2e-image']);
    const shown = json(['image', 'show', 'e2e-image']);
    assert.ok(String(shown.tags).includes('golden'));

    const out = join(dir, 'saved.raw');
    os(['image', 'save', '--file', out, 'e2e-image']);
    assert.equal(await md5File(out), expected);
  });

  it('shares an image with another project, which accepts it', () => {
    os(['image', 'set', '--shared', 'e2e-image']);
    os(['image', 'add', 'project', 'e2e-image', 'demo']);
    const demo = { ...admin, OS_USERNAME: 'demo', OS_PROJECT_NAME: 'demo' };
    const id = json(['image', 'show', 'e2e-image']).id as string;
    os(['image', 'set', '--accept', id], demo);
    const seen = json(['image', 'show', id], demo);
    assert.equal(seen.name, 'e2e-image');
    const members = json(['image', 'member', 'list', id]) as unknown as { Status: string }[];
    assert.deepEqual(members.map((m) => m.Status), ['accepted']);
  });
});
