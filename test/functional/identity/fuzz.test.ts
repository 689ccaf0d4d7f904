import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A cheap fingerprint of all identity state, to prove rejected writes changed nothing. */
async function fingerprint(t: TestCloud): Promise<string> {
  const db = t.cloud.db.typed<Record<string, Record<string, unknown>>>();
  const tables = [
    'identity_projects', 'identity_project_tags', 'identity_users', 'identity_passwords', 'identity_groups', 'identity_group_members',
    'identity_roles', 'identity_implied_roles', 'identity_assignments', 'identity_regions', 'identity_services', 'identity_endpoints',
    'identity_endpoint_groups', 'identity_credentials', 'identity_app_creds', 'identity_trusts', 'identity_registered_limits',
    'identity_limits', 'identity_revocations', 'identity_policies', 'identity_oauth_consumers', 'identity_domain_configs',
  ];
  const parts: string[] = [];
  for (const table of tables) {
    const rows = await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirst();
    parts.push(`${table}:${String(rows?.n)}`);
  }
  const users = await db.selectFrom('identity_users').selectAll().orderBy('id').execute();
  const projects = await db.selectFrom('identity_projects').selectAll().orderBy('id').execute();
  return `${parts.join(',')}|${JSON.stringify(users)}|${JSON.stringify(projects)}`;
}

const segment = fc.oneof(
  fc.constantFrom('default', 'admin', '..', '%00', 'x'.repeat(300), '00000000000000000000000000000000', ''),
  fc.stringMatching(/^[a-z0-9-]{1,40}$/),
  fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s) || 'e'),
);

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({ user: fc.dictionary(fc.constantFrom('name', 'password', 'domain_id', 'enabled', 'options', 'default_project_id', 'email'), fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ project: fc.dictionary(fc.constantFrom('name', 'domain_id', 'parent_id', 'enabled', 'is_domain', 'tags', 'options'), fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ role: fc.dictionary(fc.constantFrom('name', 'domain_id', 'options', 'description'), fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ auth: fc.jsonValue({ maxDepth: 4 }) }),
);

describe('identity: fuzzing every route', () => {
  let t: TestCloud;
  let token: string;
  before(async () => {
    t = await startTestCloud();
    token = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  it('never answers 5xx and rejected writes change nothing', async () => {
    const routes = t.cloud.routes.filter((r) => r.url.startsWith('/identity') && r.method !== 'HEAD');
    assert.ok(routes.length > 50, `expected the whole Keystone API, found ${routes.length} routes`);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(segment, { minLength: 6, maxLength: 6 }),
        fc.option(jsonValue, { nil: undefined }),
        fc.option(fc.dictionary(fc.constantFrom('name', 'enabled', 'limit', 'marker', 'domain_id', 'effective', 'include_names', 'parent_id', 'is_domain', 'tags', 'password_expires_at'), fc.string({ maxLength: 12 })), { nil: undefined }),
        fc.boolean(),
        async (route, segments, body, query, rawGarbage) => {
          let i = 0;
          const path = route.url.replace(/:[A-Za-z_]+/g, () => segments[i++ % segments.length]);
          const qs = query ? `?${new URLSearchParams(query).toString()}` : '';
          const before = WRITES.has(route.method) ? await fingerprint(t) : '';
          const res = await t.request(route.method, `${path}${qs}`, rawGarbage && body !== undefined ? { token, rawBody: JSON.stringify(body).slice(0, -1) } : { token, body });
          assert.ok(res.status < 500, `${route.method} ${path}${qs} -> ${res.status} ${res.text.slice(0, 300)}`);
          if (res.status >= 400) {
            assert.ok(res.json.error && typeof res.json.error.message === 'string', `no Keystone fault body for ${route.method} ${path}: ${res.text.slice(0, 200)}`);
          }
          if (WRITES.has(route.method) && res.status >= 400) {
            assert.equal(await fingerprint(t), before, `${route.method} ${path} was rejected (${res.status}) but changed state`);
          }
        },
      ),
      { numRuns: Number(process.env.NUBES_FUZZ_RUNS ?? 400), seed: process.env.NUBES_FUZZ_SEED ? Number(process.env.NUBES_FUZZ_SEED) : undefined },
    );
  });
});
