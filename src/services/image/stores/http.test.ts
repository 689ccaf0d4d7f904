import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { HttpImageStore, isLoopbackUrl } from './http.js';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

test('only loopback http(s) URLs are readable', () => {
  for (const ok of ['http://127.0.0.1/x', 'http://127.8.9.10:8080/x', 'https://localhost/x', 'http://[::1]:80/x', 'http://a.localhost/x']) assert.ok(isLoopbackUrl(ok), ok);
  for (const bad of ['http://10.0.0.1/x', 'http://example.com/x', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'http://user:pw@127.0.0.1/x', 'http://127.0.0.1.example.com/x', 'not a url', 'http://0x7f000001.example/x']) {
    assert.ok(!isLoopbackUrl(bad), bad);
  }
});

describe('HttpImageStore', () => {
  let server: Server;
  let base: string;
  const store = new HttpImageStore(2000);
  before(async () => {
    server = createServer((req, res) => {
      // Ignores Range on purpose: the store must cut the body itself.
      if (req.url === '/data') return void res.writeHead(200, { 'content-length': '10' }).end(req.method === 'HEAD' ? undefined : '0123456789');
      if (req.url === '/ranged') {
        const m = /bytes=(\d+)-(\d+)/.exec(String(req.headers.range));
        const body = '0123456789';
        if (m) return void res.writeHead(206, { 'content-length': String(Number(m[2]) - Number(m[1]) + 1) }).end(body.slice(Number(m[1]), Number(m[2]) + 1));
        return void res.writeHead(200).end(body);
      }
      if (req.url === '/hop') return void res.writeHead(301, { location: '/data' }).end();
      if (req.url === '/escape') return void res.writeHead(302, { location: 'http://198.51.100.7/data' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('reads whole objects and ranges (cut locally when the server ignores Range)', async () => {
    assert.equal(await text(await store.get(`${base}/data#frag`)), '0123456789');
    assert.equal(await text(await store.get(`${base}/data`, { start: 3, end: 5 })), '345');
    assert.equal(await text(await store.get(`${base}/ranged`, { start: 3, end: 5 })), '345');
    assert.deepEqual(await store.stat(`${base}/data`), { size: 10 });
  });

  test('missing data is ENOENT / null; redirects are followed on loopback only', async () => {
    await assert.rejects(store.get(`${base}/nope`), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
    assert.equal(await store.stat(`${base}/nope`), null);
    assert.equal(await text(await store.get(`${base}/hop`)), '0123456789');
    await assert.rejects(store.get(`${base}/escape`), /only loopback/);
    assert.equal(await store.stat(`${base}/escape`), null);
    await assert.rejects(store.get('http://203.0.113.5/x'), /only loopback/);
  });

  test('is read-only and owns only loopback http URLs', async () => {
    await assert.rejects(store.put());
    await store.delete();
    assert.deepEqual(await store.list(), []);
    assert.equal(store.keyOf(`${base}/data`), `${base}/data`);
    assert.equal(store.keyOf('file:///var/lib/images/x'), null);
    assert.equal(store.keyOf('http://example.org/x'), null);
    assert.equal(store.locationUrl(`${base}/data`), `${base}/data`);
  });
});
