import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freePort, startServer, type RunningServer } from '../helpers/server.js';
import { eventually, md5, swiftSession, type SwiftSession } from './object-store-swift.js';

/**
 * Two clouds (two `nubes start` processes, each its own data dir and Keystone) in one realm:
 * east's container syncs to west's and back, through the real daemons and HTTP.
 */
describe('e2e: container sync between two Nubes clouds', () => {
  let east: RunningServer;
  let west: RunningServer;
  let e: SwiftSession;
  let w: SwiftSession;

  before(async () => {
    const [pe, pw] = [await freePort(), await freePort()];
    const realms = `fed: key=e2e-realm-key cluster_east=http://127.0.0.1:${pe}/object-store/v1/ cluster_west=http://localhost:${pw}/object-store/v1/`;
    const args = ['--set', `object_store.container_sync_realms=${realms}`, '--set', 'object_store.container_sync_interval=1'];
    [east, west] = await Promise.all([startServer(args, {}, { port: pe }), startServer(args, {}, { port: pw })]);
    [e, w] = await Promise.all([swiftSession(east), swiftSession(west)]);
  });

  after(async () => {
    await Promise.all([east?.stop(), west?.stop()]);
  });

  const req = (s: SwiftSession, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) =>
    fetch(`${s.storageUrl}${path}`, { method, headers: { 'x-auth-token': s.token, ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}) });
  const names = async (s: SwiftSession, c: string): Promise<string> => {
    const r = await req(s, 'GET', `/${c}?format=json`);
    return JSON.stringify(((await r.json()) as Array<{ name: string; hash: string; last_modified: string }>).map((o) => [o.name, o.hash, o.last_modified]));
  };

  it('/info of both clouds lists the realm and its two clusters', async () => {
    const info = (await (await fetch(`${east.url}/object-store/info`)).json()) as { container_sync: unknown };
    assert.deepEqual(info.container_sync, { realms: { FED: { clusters: { EAST: {}, WEST: {} } } } });
  });

  it('objects written on either side reach the other, with their bytes, metadata and timestamps; deletes follow', async () => {
    assert.equal((await req(e, 'PUT', '/shared', { 'x-container-sync-key': 'k', 'x-container-sync-to': `//fed/west/${w.account}/shared` })).status, 201);
    assert.equal((await req(w, 'PUT', '/shared', { 'x-container-sync-key': 'k', 'x-container-sync-to': `//fed/east/${e.account}/shared` })).status, 201);
    const big = randomBytes(3 * 1024 * 1024 + 17);
    assert.equal((await req(e, 'PUT', '/shared/big.bin', { 'content-type': 'application/x-big', 'x-object-meta-origin': 'east' }, big)).status, 201);
    assert.equal((await req(e, 'PUT', '/shared/dir/naïve name', {}, 'small')).status, 201);
    assert.equal((await req(w, 'PUT', '/shared/from-west', {}, 'west says hi')).status, 201);
    await eventually('both containers list the same objects', 30_000, async () => {
      const [a, b] = [await names(e, 'shared'), await names(w, 'shared')];
      return (a === b && JSON.parse(a).length === 3) || `east ${a} west ${b}`;
    });
    const got = await req(w, 'GET', '/shared/big.bin');
    assert.equal(md5(Buffer.from(await got.arrayBuffer())), md5(big));
    assert.equal(got.headers.get('content-type'), 'application/x-big');
    assert.equal(got.headers.get('x-object-meta-origin'), 'east');
    assert.equal(got.headers.get('x-timestamp'), (await req(e, 'HEAD', '/shared/big.bin')).headers.get('x-timestamp'));
    assert.equal(await (await req(e, 'GET', '/shared/from-west')).text(), 'west says hi');

    assert.equal((await req(w, 'DELETE', '/shared/dir/naïve name')).status, 204);
    assert.equal((await req(e, 'PUT', '/shared/from-west', {}, 'east overwrites')).status, 201);
    await eventually('the delete and the overwrite cross over', 30_000, async () => {
      const gone = (await req(e, 'HEAD', '/shared/dir/naïve name')).status === 404;
      const over = (await (await req(w, 'GET', '/shared/from-west')).text()) === 'east overwrites';
      return (gone && over) || `gone on east: ${gone}, overwritten on west: ${over}`;
    });
    assert.equal(await names(e, 'shared'), await names(w, 'shared'));
  });

  it('without the right key the other cloud refuses what the daemon sends', async () => {
    assert.equal((await req(w, 'PUT', '/locked', { 'x-container-sync-key': 'west-key' })).status, 201);
    assert.equal((await req(e, 'PUT', '/leaky', { 'x-container-sync-key': 'east-key', 'x-container-sync-to': `//fed/west/${w.account}/locked` })).status, 201);
    assert.equal((await req(e, 'PUT', '/leaky/o', {}, 'x')).status, 201);
    // the daemon runs every second: after a few passes nothing may have arrived
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await req(w, 'HEAD', '/locked/o')).status, 404);
  });
});
