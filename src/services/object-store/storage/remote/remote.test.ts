import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDeviceSpec, ringAdd, ringCreate, ringRebalance } from '../../ring/admin.js';
import { runAuditorOnce, runReplicatorOnce, runUpdaterOnce } from '../../workers/index.js';
import { bodyOf, md5, readAll, runClusterContract, writeMeta } from '../contract.test-suite.js';
import { createLocalCluster, type LocalCluster } from '../local/cluster.js';
import { StorageError } from '../types.js';
import { startStorageAgent, type RunningStorageAgent } from './agent.js';

const KEY = 'test-storage-key';

/**
 * A ring spanning this process and two storage agents on loopback: local d0, agent A with a0
 * and a1, agent B with b0, 3 replicas. One zone per device, so a partition's three replicas
 * always sit on three different devices and the fourth is the handoff.
 */
interface Topology {
  dir: string;
  cluster: LocalCluster;
  agents: { a: RunningStorageAgent; b: RunningStorageAgent };
  devicesOf: { a: string; b: string };
  restartB(): Promise<void>;
  close(): Promise<void>;
}

async function agent(devicesDir: string, port = 0): Promise<RunningStorageAgent> {
  return startStorageAgent({ devicesDir, host: '127.0.0.1', port, key: KEY, auditorSeconds: 0 });
}

async function topology(): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-remote-'));
  const root = join(dir, 'proxy', 'object-store');
  const devicesOf = { a: join(dir, 'node-a'), b: join(dir, 'node-b') };
  for (const d of [join(devicesOf.a, 'a0'), join(devicesOf.a, 'a1'), join(devicesOf.b, 'b0')]) mkdirSync(d, { recursive: true });
  const agents = { a: await agent(devicesOf.a), b: await agent(devicesOf.b) };
  ringCreate(root, ['account', 'container', 'object'], 4, 3, 1);
  const add = (spec: string) => ringAdd(root, ['account', 'container', 'object'], parseDeviceSpec(spec, 100));
  add(`r1z1-${join(root, 'devices')}/d0`);
  add(`r1z2-127.0.0.1:${agents.a.port}/a0`);
  add(`r1z3-127.0.0.1:${agents.b.port}/b0`);
  add(`r1z4-127.0.0.1:${agents.a.port}/a1`);
  ringRebalance(root, ['account', 'container', 'object']);
  const cluster = await createLocalCluster({ root, remote: { key: KEY, timeoutMs: 2000, suppressMs: 0 } });
  const t: Topology = {
    dir,
    cluster,
    agents,
    devicesOf,
    async restartB() {
      t.agents.b = await agent(devicesOf.b, t.agents.b.port);
    },
    async close() {
      cluster.close();
      await Promise.all([t.agents.a.close(), t.agents.b.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** The .data files of an object on the devices of one agent. */
function dataFilesOn(devicesDir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.data')) out.push(join(d, e.name));
    }
  };
  walk(devicesDir);
  return out;
}

runClusterContract('3 replicas across this process and two storage agents', async () => {
  const t = await topology();
  return { cluster: t.cluster, close: () => t.close() };
});

describe('storage agents: remote devices in the ring', () => {
  let t: Topology;
  const A = 'AUTH_remote';
  before(async () => {
    t = await topology();
    await t.cluster.putContainer(A, 'c', { set: {} }, writeMeta().timestamp);
  });
  after(async () => t?.close());

  it('writes, reads, ranges and deletes objects whose replicas live on agents', async () => {
    const body = Buffer.alloc(300_000, 7);
    const info = await t.cluster.putObject(A, 'c', 'big', bodyOf(body.subarray(0, 100_000), body.subarray(100_000)), writeMeta());
    assert.equal(info.etag, md5(body));
    const { part, hash, nodes } = t.cluster.rings.object.getNodes(A, 'c', 'big');
    for (const n of nodes) assert.equal((await t.cluster.devices.get(n).objects.readState(part, hash))?.kind, 'data', `replica on ${n.device}`);
    const got = await t.cluster.getObject(A, 'c', 'big', { start: 10, end: 20 });
    assert.deepEqual(await readAll(got!.body), body.subarray(10, 20));
    assert.equal((await t.cluster.headContainer(A, 'c'))?.objectCount, 1);
    assert.equal(await t.cluster.deleteObject(A, 'c', 'big', writeMeta().timestamp), true);
    assert.equal(await t.cluster.getObject(A, 'c', 'big'), null);
    assert.equal((await t.cluster.headContainer(A, 'c'))?.objectCount, 0);
  });

  it('a node down: writes still reach quorum through a handoff; the replicator restores the node when it is back', async () => {
    await t.agents.b.close();
    const names = Array.from({ length: 12 }, (_, i) => `while-down-${i}`);
    for (const n of names) await t.cluster.putObject(A, 'c', n, bodyOf(`body of ${n}`), writeMeta());
    for (const n of names) assert.equal((await readAll((await t.cluster.getObject(A, 'c', n))!.body)).toString(), `body of ${n}`);
    // Every object written while b0 was away still has three replicas: b0's went to a handoff.
    const owedToB = names.filter((n) => t.cluster.rings.object.getNodes(A, 'c', n).nodes.some((d) => d.device === 'b0'));
    assert.ok(owedToB.length > 0, 'some objects have b0 as a primary');
    for (const n of owedToB) {
      const { part, hash } = t.cluster.rings.object.getNodes(A, 'c', n);
      const holders = await Promise.all(t.cluster.devices.all().filter((d) => d.label.includes(`:${t.agents.b.port}/`) === false).map((d) => d.objects.readState(part, hash)));
      assert.equal(holders.filter((s) => s?.kind === 'data').length, 3, `${n}: two primaries and a handoff`);
    }
    assert.equal(dataFilesOn(t.devicesOf.b).length, 0);

    await t.restartB();
    const rep = await runReplicatorOnce(t.cluster);
    assert.ok(rep.handoffsReverted > 0, 'handoff partitions were handed back');
    assert.equal(rep.errors, 0);
    await runUpdaterOnce(t.cluster);
    for (const n of owedToB) {
      const { part, hash, nodes } = t.cluster.rings.object.getNodes(A, 'c', n);
      const b0 = nodes.find((d) => d.device === 'b0')!;
      assert.equal((await t.cluster.devices.get(b0).objects.readState(part, hash))?.kind, 'data', `${n} is back on b0`);
    }
    assert.equal((await t.cluster.listObjects(A, 'c', { limit: 100 }))?.length, names.length);
  });

  it('two nodes down: no quorum, the write is refused', async () => {
    await t.agents.b.close();
    await t.agents.a.close();
    try {
      await assert.rejects(t.cluster.putObject(A, 'c', 'nope', bodyOf('x'), writeMeta()), (e: unknown) => e instanceof StorageError && e.kind === 'insufficient_storage');
    } finally {
      t.agents.a = await agent(t.devicesOf.a, t.agents.a.port);
      await t.restartB();
    }
  });

  it('the agent audits its own devices; the proxy replicator repairs what it quarantined', async () => {
    await t.cluster.putObject(A, 'c', 'rot', bodyOf(Buffer.alloc(4096, 1)), writeMeta());
    const { part, hash, nodes } = t.cluster.rings.object.getNodes(A, 'c', 'rot');
    const onA = nodes.find((d) => d.device.startsWith('a'))!;
    const file = dataFilesOn(join(t.devicesOf.a, onA.device)).find((f) => f.includes(hash))!;
    const bytes = readFileSync(file);
    bytes[5] = bytes[5]! ^ 0xff;
    writeFileSync(file, bytes);
    const audit = await t.agents.a.audit();
    assert.equal(audit.quarantined.length, 1);
    assert.equal(await t.cluster.devices.get(onA).objects.readState(part, hash), null);
    await runReplicatorOnce(t.cluster);
    const restored = await t.cluster.devices.get(onA).objects.readState(part, hash);
    assert.equal(restored?.kind === 'data' && restored.meta.etag, md5(Buffer.alloc(4096, 1)));
    assert.equal((await runAuditorOnce({ clock: t.cluster.clock, localDisks: () => t.agents.a.server.localDevices().map((d) => d.objects) })).quarantined.length, 0);
  });
});

describe('storage agent protocol guards', () => {
  let dir: string;
  let a: RunningStorageAgent;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nubes-agent-'));
    mkdirSync(join(dir, 'sdb1'));
    a = await agent(dir);
  });
  after(async () => {
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, headers: Record<string, string> = { 'x-nubes-storage-key': KEY }, method = 'GET') =>
    new Promise<{ status: number; error: string | undefined }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: a.port, path, method, headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, error: res.headers['x-nubes-error'] as string | undefined });
      });
      req.on('error', reject);
      req.end();
    });

  it('refuses requests without the key, and bad names before touching the disk', async () => {
    assert.equal((await call('/v1/sdb1/objects', {})).status, 401);
    assert.equal((await call('/v1/sdb1/objects', { 'x-nubes-storage-key': 'wrong' })).status, 401);
    assert.equal((await call('/v1/sdb1/objects')).status, 200);
    assert.equal((await call('/v1/nosuch/objects')).status, 507, 'a missing device directory is unmounted, never created');
    assert.equal(existsSync(join(dir, 'nosuch')), false);
    assert.equal((await call('/v1/..%2F..%2Fetc/objects')).status, 400);
    assert.equal((await call('/v1/sdb1/objects/1/..%2F..%2F..')).status, 400);
    assert.equal((await call(`/v1/sdb1/objects/1/${'a'.repeat(32)}/..%2F..%2Fsecret`)).status, 400);
    assert.equal((await call(`/v1/sdb1/objects/1/${'a'.repeat(32)}?files`)).status, 200);
    assert.equal((await call(`/v1/sdb1/containers/1/${'a'.repeat(32)}`, undefined, 'DELETE')).status, 204);
  });

  it('will not listen beyond loopback without a key', async () => {
    await assert.rejects(startStorageAgent({ devicesDir: dir, host: '0.0.0.0', port: 0, key: '', auditorSeconds: 0 }), /storage_key/);
  });
});
