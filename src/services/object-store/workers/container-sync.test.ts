import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLocalCluster, type LocalCluster } from '../storage/local/cluster.js';
import { ContainerSyncer, type ContainerSyncOptions } from './container-sync.js';

/** A remote Swift container as the daemon sees it: records what arrives, can be made to fail. */
class FakeRemote {
  readonly objects = new Map<string, { timestamp: string; body: string; headers: Record<string, string | string[] | undefined> }>();
  readonly log: string[] = [];
  failing = false;
  server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '').replace(/^\/v1\/AUTH_r\/dst\//, ''));
      this.log.push(`${req.method} ${name}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.failing || req.headers['x-container-sync-key'] !== 'k') return void res.writeHead(this.failing ? 503 : 401).end();
        const ts = String(req.headers['x-timestamp']);
        const have = this.objects.get(name);
        if (req.method === 'HEAD') return void res.writeHead(have ? 200 : 404, have ? { 'x-timestamp': have.timestamp } : {}).end();
        if (req.method === 'DELETE') {
          this.objects.delete(name);
          return void res.writeHead(have ? 204 : 404).end();
        }
        this.objects.set(name, { timestamp: ts, body: Buffer.concat(chunks).toString(), headers: req.headers });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
}

const ts = (n: number) => `17000000${String(n).padStart(2, '0')}.00000`;

describe('container-sync daemon', () => {
  let dir: string;
  let cluster: LocalCluster;
  let remote: FakeRemote;
  let syncer: ContainerSyncer;
  const opts = (): ContainerSyncOptions => ({ cluster, realms: new Map(), allowFullUrls: true, containerTimeMs: 60_000, timeoutMs: 5000, pageSize: 2 });
  const put = (name: string, t: string, body = name, headers: Record<string, string> = {}) =>
    cluster.putObject('AUTH_s', 'src', name, Readable.from([Buffer.from(body)]), { timestamp: t, contentType: 'text/plain', contentLength: body.length, headers, maxSize: 1 << 20 });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nubes-csync-'));
    cluster = await createLocalCluster({ root: join(dir, 'object-store'), replicas: 1, partPower: 4 });
    remote = new FakeRemote();
    await remote.start();
    await cluster.putContainer('AUTH_s', 'src', { set: { 'sync-to': `http://127.0.0.1:${remote.port}/v1/AUTH_r/dst`, 'sync-key': 'k' } }, ts(1));
    syncer = new ContainerSyncer(opts());
  });
  after(async () => {
    syncer?.close();
    cluster?.close();
    await new Promise((r) => remote?.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends new objects with their timestamp and metadata, then does nothing while nothing changes', async () => {
    await put('a', ts(10), 'alpha', { 'x-object-meta-color': 'red' });
    await put('b', ts(11));
    await put('c d', ts(12));
    const report = await syncer.runOnce();
    assert.equal(report.puts, 3);
    assert.equal(remote.objects.get('a')?.timestamp, ts(10));
    assert.equal(remote.objects.get('a')?.body, 'alpha');
    assert.equal(remote.objects.get('a')?.headers['x-object-meta-color'], 'red');
    assert.equal(remote.objects.get('a')?.headers['content-type'], 'text/plain');
    assert.equal(remote.objects.get('c d')?.body, 'c d');
    remote.log.length = 0;
    const idle = await syncer.runOnce();
    assert.deepEqual(remote.log, [], 'an unchanged container costs no request (sync point 2)');
    assert.equal(idle.puts + idle.deletes + idle.skipped, 0);
  });

  it('a row that arrives late with an older timestamp than what was synced is still sent', async () => {
    // a slow upload that started before 'c d' was written finishes now
    await put('a-late', ts(5), 'late');
    const report = await syncer.runOnce();
    assert.equal(report.puts, 1);
    assert.equal(remote.objects.get('a-late')?.timestamp, ts(5));
  });

  it('updates and deletes follow; a failing target is retried until it answers', async () => {
    await put('b', ts(20), 'b2');
    await cluster.deleteObject('AUTH_s', 'src', 'a', ts(21));
    remote.failing = true;
    const failed = await syncer.runOnce();
    assert.ok(failed.failures >= 2);
    remote.failing = false;
    const report = await syncer.runOnce();
    assert.equal(report.puts, 1);
    assert.equal(report.deletes, 1);
    assert.equal(remote.objects.get('b')?.body, 'b2');
    assert.equal(remote.objects.has('a'), false);
  });

  it('a walk cut short by container_time resumes where it stopped (sync point 1) on the next pass', async () => {
    syncer.close();
    syncer = new ContainerSyncer({ ...opts(), containerTimeMs: 0 });
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await put(n, ts(30));
    const seen: number[] = [];
    for (let pass = 0; pass < 6 && !['p1', 'p2', 'p3', 'p4', 'p5'].every((n) => remote.objects.has(n)); pass++) seen.push((await syncer.runOnce()).puts);
    assert.ok(seen.length > 1, `several passes were needed (${seen.join(',')})`);
    assert.ok(seen.every((n) => n <= 2), 'one page per pass');
    assert.ok(['p1', 'p2', 'p3', 'p4', 'p5'].every((n) => remote.objects.has(n)));
    syncer.close();
    syncer = new ContainerSyncer(opts());
  });

  it('the remote having the object already (same or newer timestamp) means no PUT', async () => {
    remote.objects.set('q', { timestamp: ts(50), body: 'remote', headers: {} });
    await put('q', ts(40), 'local, older');
    const report = await syncer.runOnce();
    assert.equal(report.skipped, 1);
    assert.equal(remote.objects.get('q')?.body, 'remote');
  });

  it('a new target starts over; a non-loopback target (e.g. set before an upgrade) is never contacted', async () => {
    await cluster.updateContainer('AUTH_s', 'src', { set: { 'sync-to': 'http://10.9.9.9:8080/v1/AUTH_r/dst' } });
    remote.log.length = 0;
    const refused = await syncer.runOnce();
    assert.equal(refused.failures, 1);
    assert.deepEqual(remote.log, []);
    await cluster.updateContainer('AUTH_s', 'src', { set: { 'sync-to': `http://localhost:${remote.port}/v1/AUTH_r/dst` } });
    remote.objects.clear();
    const again = await syncer.runOnce();
    assert.ok(again.puts >= 8, `everything is sent to the new target (${again.puts})`);
  });
});
