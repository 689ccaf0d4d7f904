import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readAll } from '../contract.test-suite.js';
import { FILE_READ_CHUNK, FileBody, fileBufferPool } from './file-body.js';

const dir = mkdtempSync(join(tmpdir(), 'nubes-filebody-'));
const bytes = randomBytes(FILE_READ_CHUNK * 5 + 12345);
const path = join(dir, 'object.data');
writeFileSync(path, bytes);
const openFds = () => readdirSync('/proc/self/fd').length;

/** A server answering GET /?start=&end= with a FileBody piped into the response (as Fastify sends streams). */
let server: http.Server;
let base = '';
before(async () => {
  server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const start = Number(q.get('start'));
    const end = Number(q.get('end'));
    const declared = Number(q.get('declared') ?? end);
    res.writeHead(200, { 'content-length': String(declared - start) });
    const body = new FileBody(q.get('missing') ? join(dir, 'nope') : path, start, declared);
    body.on('error', () => res.destroy());
    body.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Descriptors close asynchronously (the file after the body ended, the sockets after their close): waits for the count. */
async function settledFds(want: number): Promise<number> {
  for (let i = 0; i < 100 && openFds() !== want; i++) await new Promise((r) => setTimeout(r, 20));
  return openFds();
}

function get(query: string): Promise<{ status: number; body: Buffer; aborted: boolean }> {
  return new Promise((resolve) => {
    // no keep-alive: the client's sockets must not outlive the request in the descriptor count
    http.get(`${base}/?${query}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), aborted }));
    }).on('error', () => resolve({ status: 0, body: Buffer.alloc(0), aborted: true }));
  });
}

describe('FileBody', () => {
  it('read as a stream: the exact bytes of any range, empty ones included', async () => {
    for (const [start, end] of [[0, bytes.length], [0, 0], [7, 8], [FILE_READ_CHUNK - 1, FILE_READ_CHUNK * 2 + 1], [100, bytes.length]] as const) {
      assert.deepEqual(await readAll(new FileBody(path, start, end)), bytes.subarray(start, end), `${start}-${end}`);
    }
  });

  it('piped into an HTTP response: the exact bytes, written from buffers that return to the pool', async () => {
    const fds = openFds();
    for (const [start, end] of [[0, bytes.length], [3, FILE_READ_CHUNK * 3 + 5], [10, 20]] as const) {
      const got = await get(`start=${start}&end=${end}`);
      assert.equal(got.status, 200);
      assert.equal(got.aborted, false);
      assert.ok(got.body.equals(bytes.subarray(start, end)), `${start}-${end}`);
    }
    assert.ok(fileBufferPool.size > 0, 'written buffers came back for reuse');
    assert.equal(await settledFds(fds), fds, 'every descriptor was closed');
  });

  it('a file shorter than its declared length, or missing, aborts the response instead of hanging', async () => {
    const fds = openFds();
    const short = await get(`start=0&end=${bytes.length}&declared=${bytes.length + FILE_READ_CHUNK * 2}`);
    assert.equal(short.aborted, true);
    assert.ok(short.body.length <= bytes.length);
    const missing = await get('start=0&end=10&missing=1');
    assert.equal(missing.aborted, true);
    assert.equal(missing.body.length, 0);
    assert.equal(await settledFds(fds), fds);
  });

  it('a client that goes away mid-body leaves no descriptor open', async () => {
    const fds = openFds();
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/?start=0&end=${bytes.length}`, { agent: false }, (res) => {
        res.once('data', () => req.destroy());
        res.on('error', () => undefined);
        res.on('close', () => resolve());
      });
      req.on('error', () => undefined);
      req.on('close', () => undefined);
      setTimeout(() => reject(new Error('no close')), 5000).unref();
    });
    assert.equal(await settledFds(fds), fds);
  });
});
