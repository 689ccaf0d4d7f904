import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';

describe('identity: policies and OS-OAUTH1 consumers', () => {
  let t: TestCloud;
  let admin: string;
  let demo: string;

  before(async () => {
    t = await startTestCloud();
    admin = await t.adminToken();
    demo = (await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } })).token;
  });
  after(async () => {
    await t.close();
  });

  const req = (method: string, path: string, token: string | null, body?: unknown) => t.request(method, `${V3}${path}`, { token, body });

  it('stores, updates, lists and deletes policy blobs', async () => {
    const created = await req('POST', '/policies', admin, { policy: { blob: '{"rule": ""}', type: 'application/json', owner: 'ops' } });
    assert.equal(created.status, 201, created.text);
    const policy = created.json.policy;
    assert.deepEqual({ blob: policy.blob, type: policy.type, owner: policy.owner }, { blob: '{"rule": ""}', type: 'application/json', owner: 'ops' });
    assert.match(policy.id, /^[0-9a-f]{32}$/);
    assert.ok(String(policy.links.self).endsWith(`/identity/v3/policies/${policy.id}`));

    const other = (await req('POST', '/policies', admin, { policy: { blob: 'b', type: 'text/plain' } })).json.policy;
    const updated = await req('PATCH', `/policies/${policy.id}`, admin, { policy: { type: 'application/yaml' } });
    assert.equal(updated.status, 200);
    assert.deepEqual({ type: updated.json.policy.type, blob: updated.json.policy.blob }, { type: 'application/yaml', blob: '{"rule": ""}' });
    assert.deepEqual((await req('GET', `/policies/${policy.id}`, admin)).json.policy, updated.json.policy);

    const all = await req('GET', '/policies', admin);
    assert.deepEqual(all.json.policies.map((p: { id: string }) => p.id).sort(), [policy.id, other.id].sort());
    assert.deepEqual((await req('GET', '/policies?type=text/plain', admin)).json.policies.map((p: { id: string }) => p.id), [other.id]);

    assert.equal((await req('POST', '/policies', admin, { policy: { blob: 'b' } })).status, 400);
    assert.equal((await req('POST', '/policies', admin, { policy: { blob: 1, type: 't' } })).status, 400);
    assert.equal((await req('POST', '/policies', admin, { policy: { blob: 'b', type: 'x'.repeat(256) } })).status, 400);
    assert.equal((await req('PATCH', `/policies/${policy.id}`, admin, { policy: {} })).status, 400);
    assert.equal((await req('GET', '/policies', demo)).status, 403);
    assert.equal((await req('POST', '/policies', demo, { policy: { blob: 'b', type: 't' } })).status, 403);

    assert.equal((await req('DELETE', `/policies/${policy.id}`, admin)).status, 204);
    const gone = await req('GET', `/policies/${policy.id}`, admin);
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.message, `Could not find policy: ${policy.id}.`);
  });

  it('creates consumers whose secret is shown once', async () => {
    const created = await req('POST', '/OS-OAUTH1/consumers', admin, { consumer: { description: 'first' } });
    assert.equal(created.status, 201, created.text);
    const consumer = created.json.consumer;
    assert.equal(consumer.description, 'first');
    assert.match(consumer.secret, /^[0-9a-f]{32}$/);
    assert.ok(String(consumer.links.self).endsWith(`/identity/v3/OS-OAUTH1/consumers/${consumer.id}`));

    const shown = await req('GET', `/OS-OAUTH1/consumers/${consumer.id}`, admin);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json.consumer, { id: consumer.id, description: 'first', links: consumer.links });

    const bare = await req('POST', '/OS-OAUTH1/consumers', admin, { consumer: {} });
    assert.equal(bare.status, 201);
    assert.equal(bare.json.consumer.description, null);

    const listed = await req('GET', '/OS-OAUTH1/consumers', admin);
    assert.deepEqual(listed.json.consumers.map((c: { id: string }) => c.id).sort(), [consumer.id, bare.json.consumer.id].sort());
    assert.ok(listed.json.consumers.every((c: Record<string, unknown>) => !('secret' in c)));

    const updated = await req('PATCH', `/OS-OAUTH1/consumers/${consumer.id}`, admin, { consumer: { description: 'second' } });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.consumer.description, 'second');
    assert.equal('secret' in updated.json.consumer, false);
    assert.equal((await req('GET', `/OS-OAUTH1/consumers/${consumer.id}`, admin)).json.consumer.description, 'second');
    assert.equal((await req('PATCH', `/OS-OAUTH1/consumers/${consumer.id}`, admin, { consumer: { secret: 'mine' } })).status, 400);
    assert.equal((await req('PATCH', `/OS-OAUTH1/consumers/${consumer.id}`, admin, { consumer: {} })).status, 400);
    assert.equal((await req('GET', '/OS-OAUTH1/consumers', demo)).status, 403);

    assert.equal((await req('DELETE', `/OS-OAUTH1/consumers/${consumer.id}`, admin)).status, 204);
    assert.equal((await req('GET', `/OS-OAUTH1/consumers/${consumer.id}`, admin)).status, 404);
    assert.equal((await req('DELETE', `/OS-OAUTH1/consumers/${consumer.id}`, admin)).status, 404);
  });
});
