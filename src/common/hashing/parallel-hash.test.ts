import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { HashPool } from './pool.js';
import type { ParallelHash } from './parallel-hash.js';
import type { HashRequest } from './protocol.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const expected = (algos: string[], data: Buffer): string[] => algos.map((a) => createHash(a).update(data).digest('hex'));

/** Feeds `data` in `chunk`-sized pieces, honouring back-pressure; `each` sees the hasher after every call. */
async function feed(hasher: ParallelHash, data: Buffer, chunk: number, each?: () => void): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) {
    const pending = hasher.update(data.subarray(at, at + chunk));
    each?.();
    if (pending) await pending;
  }
}

describe('ParallelHash', () => {
  const pools: HashPool[] = [];
  const pool = (options: ConstructorParameters<typeof HashPool>[0]): HashPool => {
    const p = new HashPool(options);
    pools.push(p);
    return p;
  };
  after(async () => {
    for (const p of pools) await p.close();
  });

  for (const placement of ['per-algorithm', 'together'] as const) {
    it(`matches node:crypto for many sizes and chunk sizes (${placement}, small batches)`, async () => {
      const p = pool({ placement, hasher: { slotBytes: 4 * KiB, maxSlots: 3 } });
      const sizes = [0, 1, 2, 4 * KiB - 1, 4 * KiB, 4 * KiB + 1, 12 * KiB + 7, 100 * KiB + 3];
      for (const size of sizes) {
        const data = randomBytes(size);
        for (const chunk of [1, 3, 4 * KiB, 5 * KiB + 1, 64 * KiB, 4 * MiB]) {
          const hasher = p.hasher(['md5', 'sha512']);
          await feed(hasher, data, chunk);
          assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data), `size ${size}, chunk ${chunk}`);
        }
      }
      assert.equal(p.sessions, 0);
    });

    it(`matches node:crypto on multi-MiB data with default batches (${placement})`, async () => {
      const p = pool({ placement });
      for (const size of [MiB - 1, MiB, MiB + 1, 9 * MiB + 12345]) {
        const data = randomBytes(size);
        for (const chunk of [1000, 16 * KiB, 64 * KiB, MiB, 4 * MiB]) {
          const hasher = p.hasher(['md5', 'sha512']);
          await feed(hasher, data, chunk);
          assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data), `size ${size}, chunk ${chunk}`);
        }
      }
      const data = randomBytes(MiB + 5);
      const hasher = p.hasher(['md5', 'sha512']);
      await feed(hasher, data, 1);
      assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data), 'one byte at a time');
      assert.ok(p.threads >= 1 && p.threads <= 2, `threads ${p.threads}`);
    });
  }

  it('returns digests in the order asked, for any supported algorithm', async () => {
    const p = pool({ hasher: { slotBytes: 8 * KiB } });
    const algos = ['sha256', 'md5', 'sha1', 'sha512'];
    const data = randomBytes(100 * KiB);
    const hasher = p.hasher(algos);
    await feed(hasher, data, 10 * KiB);
    assert.deepEqual(await hasher.digest(), expected(algos, data));
    assert.throws(() => p.hasher(['md5', 'no-such-hash']), /unsupported hash algorithm no-such-hash/);
  });

  it('hashes a stream shorter than one batch on the calling thread, without starting a worker', async () => {
    const p = pool({});
    const data = randomBytes(300 * KiB);
    const hasher = p.hasher(['md5', 'sha512']);
    await feed(hasher, data, 64 * KiB);
    assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data));
    assert.equal(p.threads, 0);
  });

  it('keeps copies of the chunks, so callers may reuse their buffers once update() is done', async () => {
    const p = pool({ hasher: { slotBytes: 16 * KiB, maxSlots: 2 } });
    const data = randomBytes(200 * KiB);
    const scratch = Buffer.alloc(5000);
    const hasher = p.hasher(['md5']);
    for (let at = 0; at < data.length; at += scratch.length) {
      const n = data.copy(scratch, 0, at, at + scratch.length);
      const pending = hasher.update(scratch.subarray(0, n));
      if (pending) await pending;
      scratch.fill(0xaa);
    }
    assert.deepEqual(await hasher.digest(), expected(['md5'], data));
  });

  it('bounds the bytes in flight and makes the caller wait when every batch is busy', async () => {
    const slotBytes = 32 * KiB;
    const maxSlots = 3;
    const p = pool({ hasher: { slotBytes, maxSlots } });
    const data = randomBytes(4 * MiB);
    const hasher = p.hasher(['md5', 'sha512']);
    let most = 0;
    let waited = 0;
    for (let at = 0; at < data.length; at += 256 * KiB) {
      const pending = hasher.update(data.subarray(at, at + 256 * KiB));
      most = Math.max(most, hasher.bufferedBytes);
      if (pending) {
        waited++;
        await pending;
      }
    }
    assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data));
    assert.ok(most <= slotBytes * maxSlots && most > 0, `held ${most} bytes`);
    // A 256 KiB chunk never fits in 96 KiB of batches: every call had to wait.
    assert.equal(waited, 16);
    assert.equal(hasher.bufferedBytes, 0);
  });

  it('shares workers between concurrent streams and keeps their digests apart', async () => {
    const p = pool({ size: 2, hasher: { slotBytes: 16 * KiB, maxSlots: 2 } });
    const inputs = Array.from({ length: 5 }, (_, i) => randomBytes(300 * KiB + i * 777));
    const results = await Promise.all(
      inputs.map(async (data, i) => {
        const hasher = p.hasher(['md5', 'sha512']);
        await feed(hasher, data, 10 * KiB + i);
        return hasher.digest();
      }),
    );
    results.forEach((digests, i) => assert.deepEqual(digests, expected(['md5', 'sha512'], inputs[i] as Buffer)));
    assert.ok(p.threads <= 2);
    assert.equal(p.sessions, 0);
  });

  it('abort mid-stream rejects the waiting caller and frees the workers’ sessions', async () => {
    const p = pool({ placement: 'per-algorithm', hasher: { slotBytes: 64 * KiB, maxSlots: 2 } });
    const hasher = p.hasher(['md5', 'sha512']);
    const pending = hasher.update(randomBytes(8 * MiB));
    assert.ok(pending, 'an 8 MiB chunk does not fit in 128 KiB of batches');
    assert.equal(p.sessions, 2);
    hasher.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    await assert.rejects(hasher.digest(), /client went away/);
    await assert.rejects(Promise.resolve(hasher.update(Buffer.alloc(1))), /client went away/);
    assert.equal(p.sessions, 0);
    assert.equal(hasher.bufferedBytes, 0);
    hasher.abort();
    // The pool serves the next stream as if nothing happened.
    const data = randomBytes(MiB);
    const next = p.hasher(['md5', 'sha512']);
    await feed(next, data, 100 * KiB);
    assert.deepEqual(await next.digest(), expected(['md5', 'sha512'], data));
  });

  it('abort while the digests are being computed rejects digest()', async () => {
    const p = pool({ hasher: { slotBytes: 64 * KiB, maxSlots: 4 } });
    const hasher = p.hasher(['md5', 'sha512']);
    await feed(hasher, randomBytes(2 * MiB), 256 * KiB);
    const digest = hasher.digest();
    hasher.abort(new Error('deleted meanwhile'));
    await assert.rejects(digest, /deleted meanwhile/);
    assert.equal(p.sessions, 0);
  });

  it('a pool that closes (or loses its worker) fails open streams instead of leaving them hanging; later streams hash inline', async () => {
    const p = pool({ hasher: { slotBytes: 64 * KiB, maxSlots: 2 } });
    const hasher = p.hasher(['md5', 'sha512']);
    const pending = hasher.update(randomBytes(4 * MiB));
    assert.ok(pending);
    const rejected = assert.rejects(pending, /hash pool is closed/);
    await p.close();
    await rejected;
    await assert.rejects(hasher.digest(), /hash pool is closed/);
    assert.equal(p.threads, 0);
    // A stream that cannot get a worker is hashed on the calling thread rather than refused.
    const data = randomBytes(3 * MiB + 1);
    const fallback = p.hasher(['md5', 'sha512']);
    await feed(fallback, data, 100 * KiB);
    assert.deepEqual(await fallback.digest(), expected(['md5', 'sha512'], data));
    assert.equal(p.threads, 0);
  });

  it('sends each batch buffer to a worker once; later batches name the slot', async () => {
    const p = pool({ placement: 'per-algorithm', hasher: { slotBytes: 16 * KiB, maxSlots: 2 } });
    const warm = p.hasher(['md5', 'sha512']); // starts both workers
    await feed(warm, randomBytes(64 * KiB), 16 * KiB);
    await warm.digest();
    const sent: { sid: number; buf: boolean; slot: number }[] = [];
    for (const worker of (p as unknown as { workers: { send(m: HashRequest): void }[] }).workers) {
      const send = worker.send.bind(worker);
      worker.send = (m) => {
        if (m.op === 'data') sent.push({ sid: m.sid, buf: m.buf !== undefined, slot: m.slot });
        send(m);
      };
    }
    const data = randomBytes(20 * 16 * KiB + 5);
    const hasher = p.hasher(['md5', 'sha512']);
    await feed(hasher, data, 7 * KiB);
    assert.deepEqual(await hasher.digest(), expected(['md5', 'sha512'], data));
    assert.equal(sent.length, 2 * 21, '21 batches (the last one 5 bytes), each to both workers');
    for (const sid of new Set(sent.map((m) => m.sid))) {
      const mine = sent.filter((m) => m.sid === sid);
      const withBuffer = mine.filter((m) => m.buf).map((m) => m.slot);
      assert.deepEqual(withBuffer, [...new Set(mine.map((m) => m.slot))], 'a buffer travels once per slot, with the slot\'s first batch');
      assert.ok(withBuffer.length <= 2);
    }
  });

  it('per-stream options override the pool\'s batch size', async () => {
    const p = pool({ placement: 'together', hasher: { slotBytes: 4 * KiB, maxSlots: 1 } });
    const small = p.hasher(['md5']);
    const waiting = small.update(randomBytes(6 * KiB));
    assert.ok(waiting instanceof Promise, 'a 6 KiB chunk overflows one 4 KiB batch');
    small.abort();
    await assert.rejects(waiting, /aborted/);
    const big = p.hasher(['md5'], { slotBytes: 64 * KiB });
    const data = randomBytes(48 * KiB);
    assert.equal(big.update(data), undefined, '48 KiB fit in one 64 KiB batch');
    assert.equal(big.bufferedBytes, 64 * KiB);
    assert.deepEqual(await big.digest(), expected(['md5'], data));
  });

  it('stops idle workers after idleMs', async () => {
    const p = pool({ placement: 'per-algorithm', idleMs: 30, hasher: { slotBytes: 16 * KiB } });
    const hasher = p.hasher(['md5', 'sha512']);
    await feed(hasher, randomBytes(100 * KiB), 16 * KiB);
    await hasher.digest();
    assert.equal(p.threads, 2);
    for (let i = 0; i < 100 && p.threads > 0; i++) await sleep(20);
    assert.equal(p.threads, 0);
  });

  it('never keeps the process alive once streams are done', () => {
    const module = fileURLToPath(new URL('./pool.ts', import.meta.url));
    const script = `
      const { sharedHashPool } = await import(${JSON.stringify(module)});
      const hasher = sharedHashPool().hasher(['md5', 'sha512']);
      await hasher.update(Buffer.alloc(3 * 1024 * 1024, 7));
      const [md5] = await hasher.digest();
      console.log(md5, sharedHashPool().threads > 0);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.error, undefined);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), `${createHash('md5').update(Buffer.alloc(3 * MiB, 7)).digest('hex')} true`);
  });
});
