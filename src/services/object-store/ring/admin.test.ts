import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDeviceSpec, parseKinds, ringAdd, ringCreate, ringRebalance, ringRemove, ringSetWeight, ringShow } from './admin.js';
import { loadRing } from './store.js';

describe('ring admin (nubes ring)', () => {
  it('parses swift-ring-builder device specs', () => {
    assert.deepEqual(parseDeviceSpec('r1z2-127.0.0.1:6200/sdb1', 100), { region: 1, zone: 2, device: 'sdb1', weight: 100, ip: '127.0.0.1', port: 6200 });
    assert.deepEqual(parseDeviceSpec('r1z1-/srv/node/d0', 1), { region: 1, zone: 1, device: 'd0', weight: 1, path: '/srv/node' });
    assert.equal(parseDeviceSpec('r1z1-[::1]:6200/x', 1).ip, '::1');
    assert.throws(() => parseDeviceSpec('z1-x', 1), /bad device/);
    assert.throws(() => parseKinds('nope'), /ring must be/);
  });

  it('create, add, rebalance, show', () => {
    const root = mkdtempSync(join(tmpdir(), 'ringadm-'));
    try {
      ringCreate(root, parseKinds('all'), 6, 2, 1);
      assert.throws(() => ringCreate(root, ['object'], 6, 2, 1), /already exists/);
      for (const [z, d] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) ringAdd(root, parseKinds('all'), parseDeviceSpec(`r1z${z}-${root}/${d}`, 100));
      assert.match(ringRebalance(root, ['object']), /reassigned 128 partition replicas; balance is now/);
      const ring = loadRing(root, 'object');
      assert.equal(ring?.partCount, 64);
      assert.equal(loadRing(root, 'account'), null, 'not rebalanced yet');
      const show = ringShow(root, ['object']);
      assert.match(show, /64 partitions, 2 replicas, 1 regions, 3 zones, 3 devices/);
      ringSetWeight(root, ['object'], 2, 0);
      assert.match(ringShow(root, ['object']), /changed since last rebalance/);
      ringRebalance(root, ['object']);
      assert.ok(loadRing(root, 'object')!.partitionsOf(2).length === 0);
      ringRemove(root, ['object'], 2);
      assert.doesNotMatch(ringShow(root, ['object']), / c /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
