/**
 * The StorageCluster contract: every implementation (MemoryCluster, the on-disk cluster with
 * one or several replicas, a remote one) runs this same node:test suite, so the proxy and the
 * S3 API can rely on one set of semantics. Usage from a *.test.ts file:
 *
 *   runClusterContract('memory', async () => ({ cluster: new MemoryCluster() }));
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { StorageError, type ObjectListing, type StorageCluster, type ObjectWriteMeta } from './types.js';

export interface ContractTarget {
  cluster: StorageCluster;
  close?: () => Promise<void>;
}

let tsCounter = 0;
/** Strictly increasing Swift timestamps, well in the past so X-Delete-At tests stay simple. */
export function nextTs(): string {
  tsCounter += 1;
  return (1700000000 + tsCounter / 100).toFixed(5);
}

export function bodyOf(...chunks: Array<string | Buffer>): Readable {
  return Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)), { objectMode: false });
}

export function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

export function writeMeta(extra: Partial<ObjectWriteMeta> = {}): ObjectWriteMeta {
  return { timestamp: nextTs(), contentType: 'application/octet-stream', headers: {}, maxSize: 5368709120, ...extra };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

function names(list: ObjectListing[] | Array<{ name: string } | { subdir: string }> | null): string[] {
  assert.ok(list);
  return list.map((e) => ('subdir' in e ? `dir:${e.subdir}` : e.name));
}

async function rejectsKind(p: Promise<unknown>, kind: StorageError['kind']): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof StorageError, `expected StorageError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  });
}

/** A body that sends some bytes and then dies, like a client that hangs up mid-upload. */
export function brokenBody(first: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
      } else {
        this.destroy(new Error('socket hang up'));
      }
    },
  });
}

export function runClusterContract(name: string, makeCluster: () => Promise<ContractTarget>): void {
  describe(`StorageCluster contract: ${name}`, () => {
    let target: ContractTarget;
    let c: StorageCluster;
    before(async () => {
      target = await makeCluster();
      c = target.cluster;
    });
    after(async () => {
      await target.close?.();
    });

    it('accounts: autocreate, metadata merge and removal', async () => {
      assert.equal(await c.headAccount('AUTH_a1'), null);
      const info = await c.updateAccount('AUTH_a1', { set: { 'meta-color': 'red', 'meta-size': 'big' } });
      assert.equal(info.containerCount, 0);
      assert.deepEqual(info.metadata, { 'meta-color': 'red', 'meta-size': 'big' });
      const again = await c.updateAccount('AUTH_a1', { set: { 'meta-color': '', 'meta-shape': 'round' } });
      assert.deepEqual(again.metadata, { 'meta-size': 'big', 'meta-shape': 'round' });
      const head = await c.headAccount('AUTH_a1');
      assert.ok(head);
      assert.deepEqual(head.metadata, again.metadata);
      assert.match(head.createdAt, /^\d{10}\.\d{5}$/);
    });

    it('containers: create/update, policy, stats, delete rules', async () => {
      const ts = nextTs();
      const first = await c.putContainer('AUTH_c1', 'box', { set: { 'meta-a': '1', read: '.r:*' } }, ts);
      assert.equal(first.created, true);
      assert.equal(first.info.objectCount, 0);
      assert.equal(first.info.storagePolicy, 'Policy-0');
      assert.deepEqual(first.info.metadata, { 'meta-a': '1', read: '.r:*' });
      const second = await c.putContainer('AUTH_c1', 'box', { set: { 'meta-b': '2' } }, nextTs());
      assert.equal(second.created, false);
      assert.deepEqual(second.info.metadata, { 'meta-a': '1', read: '.r:*', 'meta-b': '2' });
      const upd = await c.updateContainer('AUTH_c1', 'box', { set: { read: '' } });
      assert.deepEqual(upd?.metadata, { 'meta-a': '1', 'meta-b': '2' });
      assert.equal(await c.updateContainer('AUTH_c1', 'nope', { set: {} }), null);
      assert.equal(await c.headContainer('AUTH_c1', 'nope'), null);
      assert.ok(await c.headAccount('AUTH_c1'), 'container PUT autocreates the account');

      await c.putObject('AUTH_c1', 'box', 'o1', bodyOf('hello'), writeMeta());
      await c.putObject('AUTH_c1', 'box', 'o2', bodyOf('worlds!'), writeMeta());
      const h = await c.headContainer('AUTH_c1', 'box');
      assert.equal(h?.objectCount, 2);
      assert.equal(h?.bytesUsed, 12);
      const acct = await c.headAccount('AUTH_c1');
      assert.equal(acct?.containerCount, 1);
      assert.equal(acct?.objectCount, 2);
      assert.equal(acct?.bytesUsed, 12);
      assert.equal(await c.deleteContainer('AUTH_c1', 'box', nextTs()), 'conflict');
      assert.equal(await c.deleteObject('AUTH_c1', 'box', 'o1', nextTs()), true);
      assert.equal(await c.deleteObject('AUTH_c1', 'box', 'o2', nextTs()), true);
      assert.equal((await c.headContainer('AUTH_c1', 'box'))?.objectCount, 0);
      assert.equal(await c.deleteContainer('AUTH_c1', 'box', nextTs()), 'deleted');
      assert.equal(await c.deleteContainer('AUTH_c1', 'box', nextTs()), 'not_found');
      assert.equal(await c.headContainer('AUTH_c1', 'box'), null);
      assert.equal((await c.headAccount('AUTH_c1'))?.containerCount, 0);
      const re = await c.putContainer('AUTH_c1', 'box', { set: {} }, nextTs());
      assert.equal(re.created, true);
      assert.deepEqual(re.info.metadata, {});
      assert.equal(re.info.objectCount, 0);
    });

    it('container listings: order, prefix, delimiter, markers, limit, reverse', async () => {
      const acct = 'AUTH_l1';
      for (const n of ['b', 'a', 'a/x', 'a/y', 'c-1', 'c-2', 'd']) await c.putContainer(acct, n, { set: {} }, nextTs());
      await c.putObject(acct, 'b', 'obj', bodyOf('123'), writeMeta());
      const all = await c.listContainers(acct, { limit: 100 });
      assert.deepEqual(names(all), ['a', 'a/x', 'a/y', 'b', 'c-1', 'c-2', 'd']);
      const b = all.find((e) => 'name' in e && e.name === 'b');
      assert.ok(b && 'name' in b);
      assert.equal(b.count, 1);
      assert.equal(b.bytes, 3);
      assert.match(b.lastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 2 })), ['a', 'a/x']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, marker: 'a/y' })), ['b', 'c-1', 'c-2', 'd']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, endMarker: 'c-1' })), ['a', 'a/x', 'a/y', 'b']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, prefix: 'c-' })), ['c-1', 'c-2']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, delimiter: '/' })), ['a', 'dir:a/', 'b', 'c-1', 'c-2', 'd']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, reverse: true })), ['d', 'c-2', 'c-1', 'b', 'a/y', 'a/x', 'a']);
      assert.deepEqual(names(await c.listContainers(acct, { limit: 100, reverse: true, marker: 'c-1' })), ['b', 'a/y', 'a/x', 'a']);
      assert.deepEqual(names(await c.listContainers('AUTH_never', { limit: 10 })), []);
    });

    it('object listings: UTF-8 byte order, delimiter roll-up, markers, reverse, limit', async () => {
      const acct = 'AUTH_l2';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      // U+FFFD sorts before U+1F600 in UTF-8 bytes, but after it in UTF-16 code units.
      const objs = ['photos/2023/a.jpg', 'photos/2023/b.jpg', 'photos/2024/c.jpg', 'photos/top.txt', 'readme', 'z\u{1F600}', 'z\uFFFD', 'photos/'];
      for (const n of objs) await c.putObject(acct, 'c', n, bodyOf(n), writeMeta({ contentType: 'text/plain' }));
      const all = await c.listObjects(acct, 'c', { limit: 100 });
      assert.deepEqual(names(all), ['photos/', 'photos/2023/a.jpg', 'photos/2023/b.jpg', 'photos/2024/c.jpg', 'photos/top.txt', 'readme', 'z\uFFFD', 'z\u{1F600}']);
      const first = all?.[1];
      assert.ok(first && 'name' in first);
      assert.equal(first.hash, md5('photos/2023/a.jpg'));
      assert.equal(first.bytes, Buffer.byteLength('photos/2023/a.jpg'));
      assert.equal(first.contentType, 'text/plain');
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, delimiter: '/' })), ['dir:photos/', 'readme', 'z\uFFFD', 'z\u{1F600}']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, delimiter: '/', prefix: 'photos/' })), ['photos/', 'dir:photos/2023/', 'dir:photos/2024/', 'photos/top.txt']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 2, delimiter: '/', prefix: 'photos/' })), ['photos/', 'dir:photos/2023/']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, delimiter: '/', prefix: 'photos/', marker: 'photos/2023/' })), ['dir:photos/2024/', 'photos/top.txt']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, delimiter: '/', reverse: true })), ['z\u{1F600}', 'z\uFFFD', 'readme', 'dir:photos/']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, prefix: 'photos/2', endMarker: 'photos/2024' })), ['photos/2023/a.jpg', 'photos/2023/b.jpg']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 100, marker: 'readme', endMarker: 'z\u{1F600}' })), ['z\uFFFD']);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 0 })), []);
      assert.equal(await c.listObjects(acct, 'missing', { limit: 10 }), null);
    });

    it('objects: put/get/head round trip with metadata, ranges and ETag', async () => {
      const acct = 'AUTH_o1';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      const ts = nextTs();
      const info = await c.putObject(acct, 'c', 'greeting', bodyOf('hello ', 'world'), {
        timestamp: ts,
        contentType: 'text/plain',
        contentLength: 11,
        etag: md5('hello world'),
        headers: { 'x-object-meta-color': 'blue', 'content-disposition': 'inline' },
        maxSize: 1000,
      });
      assert.equal(info.etag, md5('hello world'));
      assert.equal(info.size, 11);
      assert.equal(info.timestamp, ts);
      assert.equal(info.name, 'greeting');
      const head = await c.headObject(acct, 'c', 'greeting');
      assert.ok(head);
      assert.equal(head.contentType, 'text/plain');
      assert.equal(head.headers['x-object-meta-color'], 'blue');
      assert.equal(head.headers['content-disposition'], 'inline');
      assert.equal(Math.floor(head.lastModified.getTime() / 1000), Math.floor(Number(ts)));
      const got = await c.getObject(acct, 'c', 'greeting');
      assert.ok(got);
      assert.equal((await readAll(got.body)).toString(), 'hello world');
      const part = await c.getObject(acct, 'c', 'greeting', { start: 6, end: 11 });
      assert.equal((await readAll(part!.body)).toString(), 'world');
      assert.equal(await c.headObject(acct, 'c', 'nothing'), null);
      assert.equal(await c.getObject(acct, 'c', 'nothing'), null);
      assert.equal(await c.headObject(acct, 'nocontainer', 'greeting'), null);
      const empty = await c.putObject(acct, 'c', 'empty', bodyOf(), writeMeta({ contentLength: 0 }));
      assert.equal(empty.etag, md5(''));
      assert.equal((await readAll((await c.getObject(acct, 'c', 'empty'))!.body)).length, 0);
    });

    it('objects: large streamed body', async () => {
      const acct = 'AUTH_o2';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      const chunk = Buffer.alloc(64 * 1024, 7);
      const count = 80; // 5 MiB
      let sent = 0;
      const body = new Readable({
        read() {
          this.push(sent++ < count ? chunk : null);
        },
      });
      const info = await c.putObject(acct, 'c', 'big', body, writeMeta());
      assert.equal(info.size, chunk.length * count);
      const hash = createHash('md5');
      for (let i = 0; i < count; i++) hash.update(chunk);
      assert.equal(info.etag, hash.digest('hex'));
      const got = await c.getObject(acct, 'c', 'big', { start: 100, end: 200 });
      assert.deepEqual(await readAll(got!.body), chunk.subarray(100, 200));
    });

    it('objects: failed writes raise StorageError and leave nothing visible', async () => {
      const acct = 'AUTH_o3';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      await rejectsKind(c.putObject(acct, 'c', 'x', bodyOf('abc'), writeMeta({ etag: md5('abd') })), 'etag_mismatch');
      await rejectsKind(c.putObject(acct, 'c', 'x', bodyOf('abc'), writeMeta({ contentLength: 5 })), 'length_mismatch');
      await rejectsKind(c.putObject(acct, 'c', 'x', bodyOf('abcdef'), writeMeta({ maxSize: 3 })), 'too_large');
      await rejectsKind(c.putObject(acct, 'c', 'x', bodyOf('abc'), writeMeta({ contentLength: 10, maxSize: 3 })), 'too_large');
      await rejectsKind(c.putObject(acct, 'c', 'x', brokenBody(Buffer.from('partial')), writeMeta()), 'client_disconnect');
      await rejectsKind(c.putObject(acct, 'missing', 'x', bodyOf('abc'), writeMeta()), 'not_found');
      assert.equal(await c.headObject(acct, 'c', 'x'), null);
      assert.deepEqual(names(await c.listObjects(acct, 'c', { limit: 10 })), []);
      assert.equal((await c.headContainer(acct, 'c'))?.objectCount, 0);
      // A failed overwrite keeps the previous version intact.
      await c.putObject(acct, 'c', 'y', bodyOf('v1'), writeMeta());
      await rejectsKind(c.putObject(acct, 'c', 'y', brokenBody(Buffer.from('v2-partial')), writeMeta()), 'client_disconnect');
      assert.equal((await readAll((await c.getObject(acct, 'c', 'y'))!.body)).toString(), 'v1');
    });

    it('objects: last write wins by timestamp, tombstones included', async () => {
      const acct = 'AUTH_o4';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      const older = nextTs();
      const newer = nextTs();
      await c.putObject(acct, 'c', 'k', bodyOf('new'), writeMeta({ timestamp: newer }));
      await rejectsKind(c.putObject(acct, 'c', 'k', bodyOf('old'), writeMeta({ timestamp: older })), 'conflict');
      assert.equal((await readAll((await c.getObject(acct, 'c', 'k'))!.body)).toString(), 'new');
      const listed = (await c.listObjects(acct, 'c', { limit: 100 }))!.flatMap((o) => ('name' in o ? [o] : []));
      assert.deepEqual(listed.map((o) => [o.name, o.hash, o.bytes]), [['k', md5(Buffer.from('new')), 3]], 'the refused write is not listed either');
      const del = nextTs();
      assert.equal(await c.deleteObject(acct, 'c', 'k', del), true);
      assert.equal(await c.headObject(acct, 'c', 'k'), null);
      assert.equal(await c.deleteObject(acct, 'c', 'k', nextTs()), false);
      await rejectsKind(c.putObject(acct, 'c', 'k', bodyOf('stale'), writeMeta({ timestamp: del })), 'conflict');
      assert.equal(await c.headObject(acct, 'c', 'k'), null);
      await c.putObject(acct, 'c', 'k', bodyOf('again'), writeMeta());
      assert.equal((await readAll((await c.getObject(acct, 'c', 'k'))!.body)).toString(), 'again');
      assert.equal(await c.deleteObject(acct, 'c', 'never', nextTs()), false);
    });

    it('objects: POST replaces user metadata and keeps data', async () => {
      const acct = 'AUTH_o5';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      await c.putObject(acct, 'c', 'm', bodyOf('data'), writeMeta({ contentType: 'text/plain', headers: { 'x-object-meta-a': '1', 'x-object-meta-b': '2', 'x-object-sysmeta-keep': 'yes' } }));
      const ts = nextTs();
      const posted = await c.postObject(acct, 'c', 'm', { timestamp: ts, headers: { 'x-object-meta-c': '3' } });
      assert.ok(posted);
      assert.deepEqual(posted.headers, { 'x-object-meta-c': '3', 'x-object-sysmeta-keep': 'yes' });
      assert.equal(posted.contentType, 'text/plain');
      assert.equal(posted.etag, md5('data'));
      const ct = await c.postObject(acct, 'c', 'm', { timestamp: nextTs(), contentType: 'image/png', headers: {} });
      assert.equal(ct?.contentType, 'image/png');
      const head = await c.headObject(acct, 'c', 'm');
      assert.deepEqual(head?.headers, { 'x-object-sysmeta-keep': 'yes' });
      assert.equal((await readAll((await c.getObject(acct, 'c', 'm'))!.body)).toString(), 'data');
      assert.equal(await c.postObject(acct, 'c', 'absent', { timestamp: nextTs(), headers: {} }), null);
    });

    it('objects: X-Delete-At in the past hides the object; symlinks list their target', async () => {
      const acct = 'AUTH_o6';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      await c.putObject(acct, 'c', 'gone', bodyOf('x'), writeMeta({ headers: { 'x-delete-at': '1000000000' } }));
      assert.equal(await c.headObject(acct, 'c', 'gone'), null);
      assert.equal(await c.getObject(acct, 'c', 'gone'), null);
      const future = String(Math.floor(Date.now() / 1000) + 3600);
      await c.putObject(acct, 'c', 'later', bodyOf('x'), writeMeta({ headers: { 'x-delete-at': future } }));
      assert.equal((await c.headObject(acct, 'c', 'later'))?.headers['x-delete-at'], future);
      await c.putObject(acct, 'c', 'link', bodyOf(), writeMeta({ headers: { 'x-symlink-target': 'c/later' } }));
      const list = await c.listObjects(acct, 'c', { limit: 10, prefix: 'link' });
      const link = list?.[0];
      assert.ok(link && 'name' in link);
      assert.equal(link.symlinkPath, `/v1/${acct}/c/later`);
    });

    it('accounts: delete removes the account', async () => {
      const acct = 'AUTH_d1';
      await c.putContainer(acct, 'c', { set: {} }, nextTs());
      await c.deleteAccount(acct, nextTs());
      assert.equal(await c.headAccount(acct), null);
      assert.equal(await c.headContainer(acct, 'c'), null);
    });
  });
}
