import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RingBuilder, RingBuilderError } from './builder.js';
import { Ring } from './ring.js';
import { loadOrCreateHashPath, loadRing, loadRingFile, saveRingFile } from './store.js';

const hp = { prefix: '', suffix: 'salt' };

function builder(partPower: number, replicas: number, devs: Array<[zone: number, weight: number]>): RingBuilder {
  const b = RingBuilder.create('object', partPower, replicas);
  devs.forEach(([zone, weight], i) => b.addDevice({ region: 1, zone, path: '/srv/node', device: `d${i}`, weight }));
  return b;
}

function zonesOfEveryPart(ring: Ring): number[] {
  const out: number[] = [];
  for (let p = 0; p < ring.partCount; p++) out.push(new Set(ring.getPartNodes(p).map((d) => d.zone)).size);
  return out;
}

describe('ring', () => {
  it('partition = top bits of md5(prefix + path + suffix)', () => {
    const b = builder(8, 1, [[1, 1]]);
    b.rebalance();
    const ring = new Ring(b.data, hp);
    const digest = createHash('md5').update('/AUTH_a/c/o/bj').update('salt').digest();
    assert.equal(ring.getPartition('AUTH_a', 'c', 'o/bj'), digest[0]);
    const nodes = ring.getNodes('AUTH_a', 'c', 'o/bj');
    assert.equal(nodes.hash, digest.toString('hex'));
    assert.equal(nodes.nodes.length, 1);
    assert.notEqual(ring.getPartition('AUTH_a'), undefined);
  });

  it('balances equal devices and spreads replicas over zones', () => {
    const b = builder(8, 3, [[1, 100], [2, 100], [3, 100], [4, 100]]);
    const res = b.rebalance();
    assert.ok(res.balance < 1, `balance ${res.balance}`);
    const counts = b.partCounts();
    for (const c of counts.values()) assert.equal(c, 192);
    const ring = new Ring(b.data, hp);
    assert.ok(zonesOfEveryPart(ring).every((z) => z === 3));
  });

  it('follows weights', () => {
    const b = builder(10, 1, [[1, 100], [2, 200], [3, 100]]);
    b.rebalance();
    assert.deepEqual([...b.partCounts().values()], [256, 512, 256]);
  });

  it('uses every zone when there are fewer zones than replicas', () => {
    const b = builder(8, 3, [[1, 1], [1, 1], [1, 1], [2, 1], [2, 1], [2, 1]]);
    const res = b.rebalance();
    assert.ok(res.balance < 2, `balance ${res.balance}`);
    const ring = new Ring(b.data, hp);
    assert.ok(zonesOfEveryPart(ring).every((z) => z === 2));
    for (let p = 0; p < ring.partCount; p++) assert.equal(ring.getPartNodes(p).length, 3);
  });

  it('moves only what it must when a device is added or removed', () => {
    const b = builder(10, 3, [[1, 1], [2, 1], [3, 1]]);
    b.rebalance();
    const before = b.data.replica2part2dev.map((row) => [...row]);
    b.addDevice({ region: 1, zone: 4, path: '/srv/node', device: 'new', weight: 1 });
    const res = b.rebalance();
    // The new device's fair share is a quarter of 3072 assignments; nothing else should churn.
    assert.ok(res.moved <= 768 + 10, `moved ${res.moved}`);
    assert.ok(res.balance < 1, `balance ${res.balance}`);
    let changedToOld = 0;
    b.data.replica2part2dev.forEach((row, r) => row.forEach((id, p) => id !== before[r]![p] && id !== 3 && changedToOld++));
    assert.ok(changedToOld <= 10, `reshuffled ${changedToOld}`);
    const again = b.rebalance();
    assert.equal(again.moved, 0, 'a second rebalance is a no-op');
    b.removeDevice(0);
    assert.throws(() => b.removeDevice(0), RingBuilderError);
    b.rebalance();
    assert.equal(b.partCounts().get(0), undefined);
    assert.ok(b.data.replica2part2dev.every((row) => row.every((id) => id !== 0)));
  });

  it('rejects impossible layouts and bad devices', () => {
    assert.throws(() => builder(4, 3, [[1, 1], [2, 1]]).rebalance(), /at least 3 devices/);
    assert.throws(() => RingBuilder.create('object', 40, 3), RingBuilderError);
    const b = builder(4, 1, [[1, 1]]);
    assert.throws(() => b.addDevice({ region: 1, zone: 1, path: '/srv/node', device: 'd0', weight: 1 }), /already exists/);
    assert.throws(() => b.addDevice({ region: 1, zone: 1, path: '/srv/node', device: '../x', weight: 1 }), /invalid device/);
    assert.throws(() => b.addDevice({ region: 1, zone: 1, ip: '127.0.0.1', device: 'x', weight: 1 }), /port/);
  });

  it('persists rings and the hash salt', () => {
    const root = mkdtempSync(join(tmpdir(), 'ring-'));
    try {
      assert.equal(loadRing(root, 'object'), null);
      const b = builder(6, 2, [[1, 1], [2, 1]]);
      b.rebalance();
      saveRingFile(root, b.data);
      const salt = loadOrCreateHashPath(root);
      assert.deepEqual(loadOrCreateHashPath(root), salt);
      const ring = loadRing(root, 'object');
      assert.ok(ring);
      assert.equal(ring.replicas, 2);
      assert.deepEqual(loadRingFile(root, 'object')?.replica2part2dev, b.data.replica2part2dev);
      assert.equal(ring.partitionsOf(0).length + ring.partitionsOf(1).length, 128);
      assert.ok(ring.getHandoffNodes(0).length === 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
