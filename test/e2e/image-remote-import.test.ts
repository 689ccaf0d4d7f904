import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { startServer, type RunningServer } from '../helpers/server.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Distributed import with two real processes on one data dir and one SQLite database:
 * A is `nubes start`, B is `nubes start --join --services image` with its own staging area.
 * An image staged on one process is imported or deleted through the other; the work on the staged
 * bytes must happen on the process that holds them (os_glance_stage_host), as Tempest's
 * test_remote_import / test_remote_delete check against Glance.
 */
describe('e2e: image import and delete across two API processes (server.join)', () => {
  let a: RunningServer;
  let b: RunningServer;
  let token = '';
  const env = { NUBES_IMAGE_ENABLED_BACKENDS: 'local:file', NUBES_IMAGE_DEFAULT_BACKEND: 'local', NUBES_IDENTITY_PASSWORD_HASH_ROUNDS: '4' };
  const stagingA = () => join(a.dataDir, 'image-staging');
  const stagingB = () => join(a.dataDir, 'image-staging-b');

  const call = async (server: RunningServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const isData = Buffer.isBuffer(body);
    const res = await fetch(`${server.url}/image${path}`, {
      method,
      headers: { 'x-auth-token': token, accept: 'application/json', 'content-type': isData ? 'application/octet-stream' : 'application/json', ...headers },
      body: body === undefined ? undefined : isData ? new Uint8Array(body) : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };
  const create = async (server: RunningServer, name: string) => {
    const res = await call(server, 'POST', '/v2/images', { name, disk_format: 'raw', container_format: 'bare', visibility: 'private' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const stage = async (server: RunningServer, id: string, data: Buffer) => {
    const res = await call(server, 'PUT', `/v2/images/${id}/stage`, data);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal((await call(a, 'GET', `/v2/images/${id}`)).body.status, 'uploading');
  };
  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  /** The import and discard jobs of an image, with the process (pid) that ran them. */
  const jobsOf = (id: string) => {
    const db = new SqliteDatabase(join(a.dataDir, 'nubes.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("select kind, queue, status, lease_owner from nubes_jobs where kind in ('api_image_import', 'discard_staged') and payload like ?").all(`%${id}%`) as {
        kind: string; queue: string; status: string; lease_owner: string | null;
      }[];
      return rows.map((r) => ({ kind: r.kind, queue: r.queue, status: r.status, pid: Number(r.lease_owner?.split(':')[1]) }));
    } finally {
      db.close();
    }
  };

  before(async () => {
    a = await startServer([], env);
    b = await startServer(['--join', '--services', 'image', '--set', 'image.staging_dir=image-staging-b', '--set', 'image.image_cache_dir=image-cache-b'], env, { dataDir: a.dataDir, adminPassword: null });
    const res = await fetch(`${a.authUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: a.adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
    });
    assert.equal(res.status, 201);
    token = res.headers.get('x-subject-token') ?? '';
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('the joined process serves image and identity with the same tokens, and nothing else', async () => {
    assert.equal((await call(b, 'GET', '/v2/images')).status, 200);
    const catalog = await fetch(`${b.authUrl}/auth/catalog`, { headers: { 'x-auth-token': token } });
    assert.equal(catalog.status, 200);
    // The catalog still points at A: the joined process registered nothing of its own.
    const entries = ((await catalog.json()) as { catalog: { type: string; endpoints: { url: string }[] }[] }).catalog;
    assert.ok(entries.find((e) => e.type === 'image')?.endpoints.every((e) => e.url.startsWith(a.url)));
    assert.equal((await fetch(`${b.url}/object-store/v1/AUTH_x`, { headers: { 'x-auth-token': token } })).status, 404);
    assert.match(b.output(), /joined the cloud/);
  });

  it('stage on B, import through A: the job runs on B, where the data is, and the image becomes active', async () => {
    const data = randomBytes(3 * (1 << 20) + 17);
    const id = await create(a, 'staged-on-b');
    await stage(b, id, data);
    assert.ok(existsSync(join(stagingB(), id)), 'B staged into its own staging area');
    assert.ok(!existsSync(join(stagingA(), id)));
    const res = await call(a, 'POST', `/v2/images/${id}/import`, { method: { name: 'glance-direct' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await waitFor('the import', async () => (await call(a, 'GET', `/v2/images/${id}`)).body.status === 'active');
    const image = (await call(a, 'GET', `/v2/images/${id}`)).body;
    assert.equal(image.checksum, md5(data));
    assert.equal(image.size, data.length);
    assert.equal(image.os_glance_stage_host, undefined, 'the stage host stays hidden');
    // The image is active before the job has cleaned up and is marked done.
    await waitFor('the import job to finish', async () => jobsOf(id)[0]?.status === 'succeeded');
    assert.deepEqual(jobsOf(id).map((j) => [j.kind, j.status, j.pid]), [['api_image_import', 'succeeded', b.pid]]);
    assert.ok(!existsSync(join(stagingB(), id)), 'the staged bytes are gone once imported');
    const tasks = (await call(a, 'GET', `/v2/images/${id}/tasks`)).body.tasks as { status: string }[];
    assert.deepEqual(tasks.map((t) => t.status), ['success']);
    const download = await fetch(`${a.url}/image/v2/images/${id}/file`, { headers: { 'x-auth-token': token } });
    assert.equal(md5(Buffer.from(await download.arrayBuffer())), md5(data), 'A serves the data B wrote to the shared store');
  });

  it('stage on A, import through B (Tempest test_remote_import): the job runs on A', async () => {
    const data = randomBytes(65_537);
    const id = await create(a, 'staged-on-a');
    await stage(a, id, data);
    assert.equal((await call(b, 'POST', `/v2/images/${id}/import`, { method: { name: 'glance-direct' } })).status, 202);
    await waitFor('the import', async () => (await call(b, 'GET', `/v2/images/${id}`)).body.status === 'active');
    assert.equal((await call(b, 'GET', `/v2/images/${id}`)).body.checksum, md5(data));
    await waitFor('the import job to finish', async () => jobsOf(id)[0]?.status === 'succeeded');
    assert.deepEqual(jobsOf(id).map((j) => [j.kind, j.status, j.pid]), [['api_image_import', 'succeeded', a.pid]]);
  });

  it('delete through A of an image staged on B removes B\'s staging file', async () => {
    const id = await create(a, 'delete-staged-on-b');
    await stage(b, id, randomBytes(100_000));
    assert.ok(existsSync(join(stagingB(), id)));
    assert.equal((await call(a, 'DELETE', `/v2/images/${id}`)).status, 204);
    assert.equal((await call(b, 'GET', `/v2/images/${id}`)).status, 404);
    await waitFor('B to discard its staged data', async () => !existsSync(join(stagingB(), id)));
    // The file goes first, then the job is marked done.
    await waitFor('the discard job to finish', async () => jobsOf(id)[0]?.status === 'succeeded');
    assert.deepEqual(jobsOf(id).map((j) => [j.kind, j.status, j.pid]), [['discard_staged', 'succeeded', b.pid]]);
  });

  it('delete through B of an image staged on A (Tempest test_remote_delete) removes A\'s staging file', async () => {
    const id = await create(a, 'delete-staged-on-a');
    await stage(a, id, randomBytes(1000));
    assert.equal((await call(b, 'DELETE', `/v2/images/${id}`)).status, 204);
    assert.equal((await call(a, 'GET', `/v2/images/${id}`)).status, 404);
    await waitFor('A to discard its staged data', async () => !existsSync(join(stagingA(), id)));
  });

  it('a joined process without a staging area of its own, or with an unknown service, refuses to start', async () => {
    await assert.rejects(startServer(['--join', '--services', 'image'], env, { dataDir: a.dataDir, adminPassword: null }), /exited early \(2\)[\s\S]*image\.staging_dir/);
    await assert.rejects(startServer(['--join', '--services', 'image,compute'], env, { dataDir: a.dataDir, adminPassword: null }), /exited early \(2\)[\s\S]*unknown service compute/);
  });

  it('both processes write the one SQLite database at once without errors', async () => {
    // Read-modify-write transactions in two processes: BEGIN IMMEDIATE makes them queue on the lock.
    const work = async (server: RunningServer, n: number) => {
      const id = await create(server, `busy-${n}`);
      const patch = await call(server, 'PATCH', `/v2/images/${id}`, [{ op: 'add', path: '/k', value: String(n) }], { 'content-type': 'application/openstack-images-v2.1-json-patch' });
      assert.equal(patch.status, 200, JSON.stringify(patch.body));
      assert.equal((await call(server, 'PUT', `/v2/images/${id}/tags/t${n}`)).status, 204);
      assert.equal((await call(server, 'DELETE', `/v2/images/${id}`)).status, 204);
    };
    await Promise.all(Array.from({ length: 40 }, (_v, n) => work(n % 2 ? a : b, n)));
  });
});
