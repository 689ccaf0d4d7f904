import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminEnv, openstack, startServer, type RunningServer } from '../helpers/server.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

/**
 * Interoperable import through Debian's clients against a real `nubes start` with two stores:
 * a file store and the swift store (Nubes' own object storage, 8 MiB segments).
 * python3-openstackclient 6.0 (Zed) imports with `image create --import` (stage + glance-direct);
 * copy-image and store deletion go through python3-openstacksdk, which it is built on.
 */
describe('e2e: image import with python3-openstackclient and openstacksdk', () => {
  let server: RunningServer;
  let admin: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'nubes-import-e2e-'));
  const source = join(dir, 'disk.raw');
  const data = randomBytes(20 * (1 << 20));
  const os = (args: string[]) => {
    const res = openstack(args, admin);
    assert.equal(res.status, 0, `openstack ${args.join(' ')} failed:\n${res.stderr}\n${res.stdout}`);
    return res.stdout;
  };
  /** `image show`, with the custom properties (where the CLI puts stores and os_glance_*) flattened in. */
  const show = (name: string) => {
    const image = JSON.parse(os(['image', 'show', name, '-f', 'json'])) as Record<string, any>;
    return { ...(image.properties as Record<string, unknown>), ...image } as Record<string, any>;
  };
  async function waitFor(name: string, done: (image: Record<string, any>) => boolean): Promise<Record<string, any>> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const image = show(name);
      if (done(image)) return image;
      assert.ok(Date.now() < deadline, `image ${name} did not get there: ${JSON.stringify(image)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  /** Runs a python3 openstacksdk snippet with `conn` connected as the admin. */
  const sdk = (code: string) => {
    const script = `import openstack\nconn = openstack.connect(auth_url=${JSON.stringify(server.authUrl)}, username='admin', password=${JSON.stringify(server.adminPassword)}, project_name='admin', user_domain_name='Default', project_domain_name='Default', region_name='RegionOne')\n${code}\n`;
    const res = spawnSync('/usr/bin/python3', ['-c', script], { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(res.status, 0, `openstacksdk failed:\n${res.stderr}\n${res.stdout}`);
    return res.stdout;
  };

  before(async () => {
    writeFileSync(source, data);
    server = await startServer([], {
      NUBES_IMAGE_ENABLED_BACKENDS: 'local:file,swift:swift',
      NUBES_IMAGE_DEFAULT_BACKEND: 'local',
      NUBES_IMAGE_SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE: '8',
    });
    admin = adminEnv(server);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('image create --import stages the file and imports it with glance-direct', async () => {
    os(['image', 'create', '--import', '--file', source, '--disk-format', 'raw', '--container-format', 'bare', 'e2e-import']);
    const image = await waitFor('e2e-import', (i) => i.status === 'active');
    assert.equal(image.checksum, md5(data));
    assert.equal(Number(image.size), data.length);
    assert.equal(image.stores, 'local');
    const out = join(dir, 'saved.raw');
    os(['image', 'save', '--file', out, 'e2e-import']);
    assert.equal(md5(readFileSync(out)), md5(data));
    const tasks = JSON.parse(sdk(`import json\nimg = conn.image.find_image('e2e-import')\nprint(json.dumps(conn.image.get('/images/' + img.id + '/tasks').json()))`)) as { tasks: { status: string; input: { import_req: { method: { name: string } } } }[] };
    assert.deepEqual(tasks.tasks.map((t) => [t.status, t.input.import_req.method.name]), [['success', 'glance-direct']]);
  });

  it('copy-image into the swift store, then the file copy is dropped and the image is served from Swift', async () => {
    const stores = JSON.parse(sdk(`import json\nprint(json.dumps([s.id for s in conn.image.stores()]))`)) as string[];
    assert.deepEqual(stores, ['local', 'swift']);
    sdk(`img = conn.image.find_image('e2e-import')\nconn.image.import_image(img, method='copy-image', stores=['swift'])`);
    await waitFor('e2e-import', (i) => i.stores === 'local,swift' && !i.os_glance_import_task);
    sdk(`img = conn.image.find_image('e2e-import')\nr = conn.image.delete('/stores/local/' + img.id)\nassert r.status_code == 204, r.status_code`);
    assert.equal(show('e2e-import').stores, 'swift');
    const out = join(dir, 'from-swift.raw');
    os(['image', 'save', '--file', out, 'e2e-import']);
    assert.equal(md5(readFileSync(out)), md5(data));
    os(['image', 'delete', 'e2e-import']);
  });
});
