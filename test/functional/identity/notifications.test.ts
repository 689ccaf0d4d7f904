import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';
import { InMemoryEventBus } from '../../../src/common/events/index.js';

describe('identity: notifications on the event bus', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => {
    await t.close();
  });

  it('publishes identity.<resource>.<operation> events for writes', async () => {
    const seen: string[] = [];
    const unsubscribe = t.cloud.events.subscribe('identity.*', (n) => {
      seen.push(`${n.event_type}:${String(n.payload.resource_info)}`);
    });
    const token = await t.adminToken();
    const created = await t.request('POST', '/identity/v3/projects', { token, body: { project: { name: 'notified' } } });
    assert.equal(created.status, 201);
    const id = created.json.project.id as string;
    assert.equal((await t.request('PATCH', `/identity/v3/projects/${id}`, { token, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await t.request('DELETE', `/identity/v3/projects/${id}`, { token })).status, 204);
    assert.ok(t.cloud.events instanceof InMemoryEventBus);
    await t.cloud.events.drain();
    unsubscribe();
    assert.ok(seen.includes(`identity.project.created:${id}`), seen.join(','));
    assert.ok(seen.includes(`identity.project.updated:${id}`), seen.join(','));
    assert.ok(seen.includes(`identity.project.deleted:${id}`), seen.join(','));
  });
});
