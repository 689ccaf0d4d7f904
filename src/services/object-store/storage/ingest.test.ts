import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { HashPool } from '../../../common/hashing/pool.js';
import { BodyMeter, LARGE_BODY_BYTES, readSmallBody } from './ingest.js';
import { StorageError } from './types.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB5 = 5 * 1024 * MiB;

/** `data` in `chunk`-sized pieces, the way a socket hands a body over. */
function chunked(data: Buffer, chunk: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      this.push(data.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

/** Runs `body` through a meter into a sink that records every chunk it was handed. */
async function meter(body: Readable, meta: { contentLength?: number; maxSize: number }, pool: HashPool): Promise<{ meter: BodyMeter; chunks: Buffer[] }> {
  const m = new BodyMeter(meta, pool);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      // a slow disk: the meter must keep order and bound what it holds
      setImmediate(cb);
    },
  });
  await pipeline(body, m, sink);
  return { meter: m, chunks };
}

describe('BodyMeter', () => {
  const pool = new HashPool({ size: 2, hasher: { slotBytes: 256 * KiB, maxSlots: 2 } });
  after(() => pool.close());

  it('passes a small body chunk by chunk and hashes it without a worker', async () => {
    const data = randomBytes(300 * KiB + 5);
    const { meter: m, chunks } = await meter(chunked(data, 16 * KiB), { maxSize: GiB5 }, pool);
    assert.equal(m.digest(), createHash('md5').update(data).digest('hex'));
    assert.equal(m.bytes, data.length);
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.equal(chunks.length, Math.ceil(data.length / (16 * KiB)), 'small bodies are not regrouped');
    assert.equal(pool.threads, 0, 'no worker was started for a small body');
  });

  it('hashes a large body on the workers and hands it on in large batches, in order', async () => {
    const data = randomBytes(5 * MiB + 12_345);
    const { meter: m, chunks } = await meter(chunked(data, 64 * KiB), { contentLength: data.length, maxSize: GiB5 }, pool);
    assert.equal(m.digest(), createHash('md5').update(data).digest('hex'));
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.ok(pool.threads >= 1, 'the body went to a hash worker');
    // the first MiB passes as it came, the rest in LARGE_BODY_BYTES batches (the last one shorter)
    const sizes = chunks.map((c) => c.length);
    const head = Math.ceil(LARGE_BODY_BYTES / (64 * KiB));
    assert.ok(sizes.slice(0, head).every((n) => n === 64 * KiB));
    assert.ok(sizes.slice(head, -1).every((n) => n === LARGE_BODY_BYTES), `batches: ${sizes.slice(head).join(',')}`);
    assert.equal(pool.sessions, 0, 'the worker session ended with the body');
  });

  it('a body of odd chunk sizes straddling the switch hashes right', async () => {
    for (const size of [LARGE_BODY_BYTES - 1, LARGE_BODY_BYTES, LARGE_BODY_BYTES + 1, 2 * LARGE_BODY_BYTES + 7]) {
      const data = randomBytes(size);
      const { meter: m, chunks } = await meter(chunked(data, 100_003), { maxSize: GiB5 }, pool);
      assert.equal(m.digest(), createHash('md5').update(data).digest('hex'), `size ${size}`);
      assert.deepEqual(Buffer.concat(chunks), data);
    }
  });

  it('stops a large body at the first byte past Content-Length or the size limit and frees its worker session', async () => {
    const data = randomBytes(3 * MiB);
    await assert.rejects(meter(chunked(data, 64 * KiB), { contentLength: 2 * MiB, maxSize: GiB5 }, pool), (e: unknown) => e instanceof StorageError && e.kind === 'length_mismatch');
    await assert.rejects(meter(chunked(data, 64 * KiB), { maxSize: 2 * MiB + 1 }, pool), (e: unknown) => e instanceof StorageError && e.kind === 'too_large');
    await new Promise((r) => setImmediate(r));
    assert.equal(pool.sessions, 0);
  });

  it('a body that fails mid-stream aborts its hashing', async () => {
    let sent = 0;
    const broken = new Readable({
      read() {
        if (sent++ < 40) this.push(randomBytes(64 * KiB));
        else this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(meter(broken, { maxSize: GiB5 }, pool), /client went away/);
    await new Promise((r) => setImmediate(r));
    assert.equal(pool.sessions, 0);
  });

  it('digest() before the end is a programming error', () => {
    assert.throws(() => new BodyMeter({ maxSize: 1 }, pool).digest(), /not ended/);
  });
});

describe('readSmallBody', () => {
  const isDisconnect = (err: unknown) => err instanceof StorageError && err.kind === 'client_disconnect';

  it('takes every chunk of a body, an empty one included', async () => {
    assert.deepEqual(Buffer.concat(await readSmallBody(Readable.from([Buffer.from('ab'), Buffer.from('cd')]))).toString(), 'abcd');
    assert.deepEqual(await readSmallBody(Readable.from([])), []);
  });

  it('a body whose client went away, before or while it is read, is a disconnect, never a wait', async () => {
    const gone = new Readable({ read() {} });
    gone.destroy();
    await new Promise((r) => setImmediate(r));
    await assert.rejects(readSmallBody(gone), isDisconnect);
    const cut = new Readable({ read() {} });
    cut.push(Buffer.from('partial'));
    const reading = readSmallBody(cut);
    setImmediate(() => cut.destroy());
    await assert.rejects(reading, isDisconnect);
  });
});
