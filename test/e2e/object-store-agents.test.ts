import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDeviceSpec, ringAdd, ringCreate, ringRebalance } from '../../src/services/object-store/ring/admin.js';
import { loadRing } from '../../src/services/object-store/ring/store.js';
import { freePort, startServer, type RunningServer } from '../helpers/server.js';
import { eventually, filesUnder, md5, swiftSession, type SwiftSession } from './object-store-swift.js';

const KEY = 'e2e-storage-key';

interface Agent {
  port: number;
  devicesDir: string;
  child: ChildProcess;
}

/** Starts the real `nubes agent storage` on a loopback port and waits until it answers. */
async function startAgent(devicesDir: string, port: number): Promise<Agent> {
  const child = spawn(process.execPath, ['bin/nubes.mjs', 'agent', 'storage', '--devices', devicesDir, '--bind', `127.0.0.1:${port}`, '--set', `object_store.storage_key=${KEY}`, '--log-level', 'warn'], {
    env: { ...process.env, NUBES_FROM_SOURCE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited (${child.exitCode})`);
    const ok = await fetch(`http://127.0.0.1:${port}/v1/none/objects`, { headers: { 'x-nubes-storage-key': KEY } }).then(
      (r) => r.status === 507,
      () => false,
    );
    if (ok) return { port, devicesDir, child };
    if (Date.now() > deadline) throw new Error('agent not ready in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function killAgent(agent: Agent): Promise<void> {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  const exited = new Promise((r) => agent.child.once('exit', r));
  process.kill(agent.child.pid!, 'SIGKILL');
  await exited;
}

/**
 * A ring across three processes: the proxy (`nubes start`, device d0) and two storage agents
 * (a0 + a1 on node A, b0 on node B), 3 replicas, one zone per device.
 */
describe('e2e: a ring spanning nubes start and two `nubes agent storage` processes', () => {
  let dir: string;
  let server: RunningServer;
  let s: SwiftSession;
  const agents: { a?: Agent; b?: Agent } = {};
  const bodies = new Map<string, Buffer>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nubes-agents-e2e-'));
    const nodeA = join(dir, 'node-a');
    const nodeB = join(dir, 'node-b');
    for (const d of [join(nodeA, 'a0'), join(nodeA, 'a1'), join(nodeB, 'b0')]) mkdirSync(d, { recursive: true });
    [agents.a, agents.b] = await Promise.all([startAgent(nodeA, await freePort()), startAgent(nodeB, await freePort())]);
    const root = join(dir, 'proxy', 'object-store');
    const all = ['account', 'container', 'object'] as const;
    ringCreate(root, [...all], 6, 3, 1);
    for (const spec of [`r1z1-${join(root, 'devices')}/d0`, `r1z2-127.0.0.1:${agents.a.port}/a0`, `r1z3-127.0.0.1:${agents.b.port}/b0`, `r1z4-127.0.0.1:${agents.a.port}/a1`]) {
      ringAdd(root, [...all], parseDeviceSpec(spec, 100));
    }
    ringRebalance(root, [...all]);
    const set = (o: string) => ['--set', `object_store.${o}`];
    server = await startServer([...set(`storage_key=${KEY}`), ...set('replicator_interval=1'), ...set('updater_interval=1'), ...set('error_suppression_interval=1'), ...set('node_timeout=3')], {}, { dataDir: join(dir, 'proxy') });
    s = await swiftSession(server);
  });

  after(async () => {
    await server?.stop();
    for (const a of [agents.a, agents.b]) if (a) await killAgent(a);
    rmSync(dir, { recursive: true, force: true });
  });

  const put = async (name: string) => {
    const body = randomBytes(20_000 + bodies.size * 1000);
    bodies.set(name, body);
    return fetch(`${s.storageUrl}/c/${name}`, { method: 'PUT', headers: { 'x-auth-token': s.token }, body });
  };
  const get = (name: string) => fetch(`${s.storageUrl}/c/${name}`, { headers: { 'x-auth-token': s.token } });

  it('Swift PUT/GET/DELETE with replicas on the agents', async () => {
    assert.equal((await fetch(`${s.storageUrl}/c`, { method: 'PUT', headers: { 'x-auth-token': s.token } })).status, 201);
    for (let i = 0; i < 8; i++) assert.equal((await put(`o${i}`)).status, 201);
    for (let i = 0; i < 8; i++) {
      const res = await get(`o${i}`);
      assert.equal(res.status, 200);
      assert.equal(md5(Buffer.from(await res.arrayBuffer())), md5(bodies.get(`o${i}`)!));
    }
    // Three replicas per object across the three processes.
    const onAgents = filesUnder(join(dir, 'node-a'), /\.data$/).length + filesUnder(join(dir, 'node-b'), /\.data$/).length;
    const onProxy = filesUnder(join(dir, 'proxy', 'object-store', 'devices'), /\.data$/).length;
    assert.equal(onAgents + onProxy, 8 * 3);
    assert.ok(onAgents >= 8, 'the agents hold most replicas');
    assert.equal((await fetch(`${s.storageUrl}/c/o0`, { method: 'DELETE', headers: { 'x-auth-token': s.token } })).status, 204);
    bodies.delete('o0');
    assert.equal((await get('o0')).status, 404);
  });

  it('node B killed: PUTs still answer 201 (quorum, handoffs), GETs succeed; back up, the replicator restores its replicas', async () => {
    await killAgent(agents.b!);
    for (let i = 0; i < 10; i++) assert.equal((await put(`down${i}`)).status, 201, `down${i} while node B is dead`);
    for (const [name, body] of bodies) {
      const res = await get(name);
      assert.equal(res.status, 200, name);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), name);
    }
    const ring = loadRing(join(dir, 'proxy', 'object-store'), 'object')!;
    const owed = [...bodies.keys()].filter((n) => ring.getNodes(s.account, 'c', n).nodes.some((d) => d.device === 'b0'));
    assert.ok(owed.length > 0);

    agents.b = await startAgent(agents.b!.devicesDir, agents.b!.port);
    await eventually("node B's replicas restored", 60_000, async () => {
      const onB = new Set(filesUnder(join(dir, 'node-b', 'b0'), /\.data$/).map((f) => f.split('/').at(-2)));
      const missing = owed.filter((n) => !onB.has(ring.getNodes(s.account, 'c', n).hash));
      return missing.length === 0 ? true : `${missing.length} of ${owed.length} still missing`;
    });
    const listing = (await (await fetch(`${s.storageUrl}/c?format=json`, { headers: { 'x-auth-token': s.token } })).json()) as Array<{ name: string }>;
    assert.deepEqual(listing.map((o) => o.name).sort(), [...bodies.keys()].sort());
  });
});
