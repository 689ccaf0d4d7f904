import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryEventBus, osloTimestamp } from './memory.js';
import type { Notification } from './types.js';

const fixedClock = (): Date => new Date('2030-05-06T07:08:09.123Z');

describe('InMemoryEventBus', () => {
  it('builds oslo.messaging-shaped notifications', async () => {
    const bus = new InMemoryEventBus({ host: 'node-1', clock: fixedClock });
    const seen: Notification[] = [];
    bus.subscribe('identity.user.created', (n) => {
      seen.push(n);
    });
    bus.publish('identity.user.created', { resource_info: 'u1' });
    bus.publish('network.port.create.end', { port_id: 'p1' }, { priority: 'WARN', publisher: 'network.agent-7' });
    await bus.drain();
    assert.equal(seen.length, 1);
    const n = seen[0]!;
    assert.equal(n.event_type, 'identity.user.created');
    assert.equal(n.publisher_id, 'identity.node-1');
    assert.equal(n.priority, 'INFO');
    assert.deepEqual(n.payload, { resource_info: 'u1' });
    assert.match(n.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(n.timestamp, '2030-05-06 07:08:09.123000');
    const port = bus.recent(1)[0]!;
    assert.equal(port.publisher_id, 'network.agent-7');
    assert.equal(port.priority, 'WARN');
  });

  it('delivers asynchronously, after publish returns, in publish order', async () => {
    const bus = new InMemoryEventBus();
    const order: string[] = [];
    bus.subscribe('*', async (n) => {
      // A slow first delivery must not let the second overtake it.
      if (n.payload.i === 1) await new Promise((r) => setTimeout(r, 20));
      order.push(`handled ${String(n.payload.i)}`);
    });
    bus.publish('test.event.one', { i: 1 });
    order.push('published 1');
    bus.publish('test.event.two', { i: 2 });
    order.push('published 2');
    assert.deepEqual(order, ['published 1', 'published 2']);
    await bus.drain();
    assert.deepEqual(order, ['published 1', 'published 2', 'handled 1', 'handled 2']);
  });

  it('routes by exact type and glob, and unsubscribes', async () => {
    const bus = new InMemoryEventBus();
    const got: Record<string, string[]> = { exact: [], users: [], all: [] };
    bus.subscribe('identity.user.deleted', (n) => void got.exact!.push(n.event_type));
    const stopUsers = bus.subscribe('identity.user.*', (n) => void got.users!.push(n.event_type));
    bus.subscribe('*', (n) => void got.all!.push(n.event_type));
    bus.publish('identity.user.created', {});
    bus.publish('identity.user.deleted', {});
    bus.publish('identity.project.created', {});
    stopUsers(); // also drops the deliveries not yet started
    bus.publish('identity.user.updated', {});
    await bus.drain();
    assert.deepEqual(got.exact, ['identity.user.deleted']);
    assert.deepEqual(got.users, []);
    assert.deepEqual(got.all, [
      'identity.user.created',
      'identity.user.deleted',
      'identity.project.created',
      'identity.user.updated',
    ]);
  });

  it('isolates failing subscribers from the publisher and from each other', async () => {
    const reported: Array<{ message: string; eventType: string }> = [];
    const bus = new InMemoryEventBus({
      onError: (err, n) => reported.push({ message: (err as Error).message, eventType: n.event_type }),
    });
    const healthy: string[] = [];
    bus.subscribe('*', () => {
      throw new Error('sync failure');
    });
    bus.subscribe('*', async () => {
      await Promise.resolve();
      throw new Error('async failure');
    });
    bus.subscribe('*', (n) => void healthy.push(n.event_type));
    assert.doesNotThrow(() => bus.publish('test.a.b', {}));
    bus.publish('test.a.c', {});
    await bus.drain();
    assert.deepEqual(healthy, ['test.a.b', 'test.a.c'], 'others and later events still delivered');
    assert.equal(reported.length, 4);
    assert.deepEqual(
      reported.map((r) => r.message).sort(),
      ['async failure', 'async failure', 'sync failure', 'sync failure'],
    );
  });

  it('survives an onError callback that itself throws', async () => {
    const bus = new InMemoryEventBus({
      onError: () => {
        throw new Error('reporter broke');
      },
    });
    let delivered = 0;
    bus.subscribe('*', () => {
      throw new Error('subscriber broke');
    });
    bus.subscribe('*', () => void delivered++);
    bus.publish('test.x.y', {});
    await bus.drain();
    assert.equal(delivered, 1);
  });

  it('copies payloads as JSON and freezes notifications', async () => {
    const bus = new InMemoryEventBus();
    const payload = { when: new Date('2030-01-01T00:00:00Z'), nested: { list: [1, 2] } };
    let received: Notification | undefined;
    bus.subscribe('*', (n) => {
      received = n;
    });
    bus.publish('test.payload.copied', payload);
    payload.nested.list.push(3); // the publisher's later mutation must not leak
    await bus.drain();
    assert.deepEqual(received?.payload, { when: '2030-01-01T00:00:00.000Z', nested: { list: [1, 2] } });
    assert.ok(Object.isFrozen(received?.payload.nested));
    assert.throws(() => bus.publish('test.payload.cyclic', (() => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      return cyclic;
    })()));
  });

  it('rejects malformed event types and priorities', () => {
    const bus = new InMemoryEventBus();
    assert.throws(() => bus.publish('nodots', {}), /invalid event type/);
    assert.throws(() => bus.publish('Identity.User', {}), /invalid event type/);
    assert.throws(() => bus.publish('identity.user.*', {}), /invalid event type/);
    // @ts-expect-error an invalid priority from untyped callers
    assert.throws(() => bus.publish('a.b', {}, { priority: 'DEBUG' }), /invalid priority/);
  });

  it('keeps a bounded ring buffer of recent notifications', () => {
    const bus = new InMemoryEventBus({ capacity: 5 });
    assert.deepEqual(bus.recent(), []);
    for (let i = 0; i < 3; i++) bus.publish('test.ring.event', { i });
    assert.deepEqual(bus.recent().map((n) => n.payload.i), [0, 1, 2]);
    for (let i = 3; i < 12; i++) bus.publish('test.ring.event', { i });
    assert.deepEqual(bus.recent().map((n) => n.payload.i), [7, 8, 9, 10, 11]);
    assert.deepEqual(bus.recent(2).map((n) => n.payload.i), [10, 11]);
    assert.deepEqual(bus.recent(0), []);
    assert.equal(bus.recent(100).length, 5);
  });

  it('formats timestamps as oslo.messaging does', () => {
    assert.equal(osloTimestamp(new Date('2024-02-29T23:59:59.007Z')), '2024-02-29 23:59:59.007000');
  });
});
