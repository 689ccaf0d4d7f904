import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const PATCH_TYPE = 'application/openstack-images-v2.1-json-patch';

/**
 * Files the image service keeps under the data dir (store data, staging), not the database's,
 * the keys, Swift's own devices, or the image cache (which fills and prunes itself in the background).
 */
function dataFiles(root: string, dir = root): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return dir === root && ['image-cache', 'fernet-keys', 'object-store'].includes(e.name) ? [] : dataFiles(root, path);
    return /\.(sqlite|db)(-wal|-shm|-journal)?$|fernet|credential|clouds\.yaml|password/.test(e.name) ? [] : [relative(root, path)];
  });
}

/** Every image_* table, row by row, plus the data files: a rejected write must leave all of it as it was. */
async function fingerprint(t: TestCloud): Promise<string> {
  const db = t.cloud.db.typed<Record<string, Record<string, unknown>>>();
  const tables = (await t.cloud.db.typed<unknown>().introspection.getTables()).map((table) => table.name).filter((name) => name.startsWith('image_')).sort();
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await db.selectFrom(table).selectAll().execute();
    parts.push(`${table}:${rows.map((row) => JSON.stringify(row)).sort().join('\n')}`);
  }
  parts.push(dataFiles(t.config.server.data_dir).sort().join(','));
  return parts.join('|');
}

describe('image: fuzzing every route', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;
  let demoProject: string;
  const ids: string[] = [];

  before(async () => {
    t = await startTestCloud({ set: { 'image.user_storage_quota': 0 } });
    admin = await t.adminToken();
    const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
    demo = login.token;
    demoProject = login.json.token.project.id;
    // Something to hit: a queued image, an active one, a shared one with a member, a protected public one.
    const make = async (body: Record<string, unknown>, data?: Buffer) => {
      const res = await t.request('POST', '/image/v2/images', { token: admin, body: { disk_format: 'raw', container_format: 'bare', ...body } });
      assert.equal(res.status, 201, res.text);
      if (data) await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${res.json.id}/file`, headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' }, payload: data });
      ids.push(res.json.id as string);
      return res.json.id as string;
    };
    await make({ name: 'queued', tags: ['a'] });
    await make({ name: 'active', foo: 'bar' }, Buffer.alloc(1000, 1));
    const shared = await make({ name: 'shared' });
    await t.request('POST', `/image/v2/images/${shared}/members`, { token: admin, body: { member: demoProject } });
    await make({ name: 'public', visibility: 'public', protected: true }, Buffer.alloc(10, 2));
  });
  after(async () => t.close());

  it('never answers 5xx, faults are Glance\'s, and rejected writes change nothing', async () => {
    const routes = t.cloud.routes.filter((r) => r.url.startsWith('/image') && r.method !== 'HEAD');
    assert.ok(routes.length >= 30, `expected the Image API, found ${routes.length} routes`);
    const segment = fc.oneof(
      fc.constantFrom(...ids, ...ids, 'a', demoProject, 'default', 'file', 'OS::Glance::Image', '00000000-0000-4000-8000-000000000000', '..', '%00', 'x'.repeat(300), ''),
      fc.stringMatching(/^[a-z0-9:_.-]{1,40}$/),
      fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s) || 'e'),
    );
    const anyValue = fc.jsonValue({ maxDepth: 2 });
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.constantFrom('name', 'disk_format', 'container_format', 'visibility', 'protected', 'os_hidden', 'tags', 'min_ram', 'min_disk', 'owner', 'id', 'status', 'locations', 'os_glance_x', 'custom', 'k'.repeat(256)), fc.oneof(anyValue, fc.constantFrom('raw', 'qcow2', 'bare', 'public', 'shared', 'community', 'x'.repeat(300)))),
      fc.array(fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'move', 'test', 1), path: fc.constantFrom('/name', '/tags', '/visibility', '/protected', '/custom', '/locations', '/locations/0', '/status', '/a/b', 'name', ''), value: anyValue }, { requiredKeys: ['op'] }), { maxLength: 3 }),
      fc.record({ member: fc.oneof(fc.constantFrom(demoProject), anyValue) }),
      fc.record({ status: fc.oneof(fc.constantFrom('accepted', 'rejected', 'pending'), anyValue) }),
      fc.record({ method: fc.record({ name: fc.oneof(fc.constantFrom('glance-direct', 'web-download', 'copy-image'), anyValue), uri: fc.constantFrom('http://127.0.0.1:1/x', 'ftp://x', 'file:///etc/passwd') }), stores: fc.oneof(fc.constantFrom(['file'], ['nope']), anyValue) }),
    );
    const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('in:a,b', 'in:"a', 'gt:2020-01-01T00:00:00Z', 'bogus:x', 'eq:', 'name:asc', 'size:desc,id', 'asc', 'desc', '-1', '0', '99999999999999999999', 'true', 'all', 'pending', ...ids));
    const query = fc.dictionary(fc.constantFrom('name', 'status', 'visibility', 'member_status', 'owner', 'tag', 'size_min', 'size_max', 'created_at', 'updated_at', 'os_hidden', 'protected', 'sort', 'sort_key', 'sort_dir', 'limit', 'marker', 'changes-since', 'foo', 'id', 'min_ram_max'), queryValue);
    const contentType = fc.constantFrom('application/json', PATCH_TYPE, 'application/octet-stream', 'text/plain', undefined);

    const failure = await fc.check(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 4, maxLength: 4 }),
        fc.option(body, { nil: undefined }),
        fc.option(query, { nil: undefined }),
        contentType,
        fc.constantFrom('admin', 'demo', 'garbage-json', 'bad-query'),
        async (route, segments, payload, params, type, mode) => {
          let i = 0;
          const path = route.url.replace(/:[A-Za-z_]+/g, () => segments[i++ % segments.length]!);
          let qs = params ? `?${new URLSearchParams(params).toString()}` : '';
          if (mode === 'bad-query') qs += `${qs ? '&' : '?'}name=%FF&tag=%E2%82`;
          const token = mode === 'demo' ? demo : admin;
          const headers: Record<string, string> = { accept: 'application/json' };
          if (type) headers['content-type'] = type;
          const before = WRITES.has(route.method) ? await fingerprint(t) : '';
          const raw = payload === undefined ? undefined : mode === 'garbage-json' ? JSON.stringify(payload).slice(0, -1) : JSON.stringify(payload);
          const res = await t.request(route.method, `${path}${qs}`, { token, headers, ...(raw === undefined ? {} : { rawBody: raw }) });
          const what = `${route.method} ${path}${qs} [${type ?? 'no type'}, ${mode}] ${raw?.slice(0, 120) ?? ''}`;
          assert.ok(res.status < 500, `${what} -> ${res.status} ${res.text.slice(0, 300)}`);
          if (res.status >= 400 && res.status !== 401) {
            const fault = res.json as { message?: unknown; code?: unknown; title?: unknown };
            assert.ok(typeof fault.message === 'string' && typeof fault.title === 'string' && typeof fault.code === 'string' && fault.code.startsWith(`${res.status} `), `no Glance fault body for ${what}: ${res.status} ${res.text.slice(0, 200)}`);
          }
          if (WRITES.has(route.method) && res.status >= 400) {
            const now = await fingerprint(t);
            if (now !== before) {
              const [was, is] = [new Set(before.split('\n')), new Set(now.split('\n'))];
              const gone = [...was].filter((line) => !is.has(line)).slice(0, 3);
              const added = [...is].filter((line) => !was.has(line)).slice(0, 3);
              assert.fail(`${what} was rejected (${res.status}) but changed state:\n- ${gone.join('\n- ')}\n+ ${added.join('\n+ ')}`);
            }
          }
        },
      ),
      { numRuns: Number(process.env.NUBES_FUZZ_RUNS ?? 400), seed: process.env.NUBES_FUZZ_SEED ? Number(process.env.NUBES_FUZZ_SEED) : undefined },
    );
    // The shrunk counterexample's own assertion says what went wrong; fast-check's summary does not.
    if (failure.failed) assert.fail(`seed ${failure.seed}, path ${failure.counterexamplePath}: ${String((failure.errorInstance as Error | undefined)?.message ?? failure.errorInstance)}`);
  });
});
