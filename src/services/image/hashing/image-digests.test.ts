import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { HashingTransform } from './image-digests.js';
import { HashPool } from '../../../common/hashing/pool.js';

const KiB = 1024;


describe('ImageDigests in a Transform', () => {
  const pool = new HashPool({ hasher: { slotBytes: 16 * KiB, maxSlots: 2 } });
  after(() => pool.close());

  it('passes every byte on, in order, and knows the digests once the stream has ended', async () => {
    const data = randomBytes(500 * KiB + 3);
    const pieces = [];
    for (let at = 0; at < data.length; at += 7 * KiB + 1) pieces.push(data.subarray(at, at + 7 * KiB + 1));
    const hashed = new HashingTransform(undefined, pool);
    const out: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => out.push(c));
    await pipeline(Readable.from(pieces), hashed, sink);
    assert.ok(Buffer.concat(out).equals(data));
    assert.equal(hashed.digests.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(hashed.digests.osHashAlgo, 'sha512');
    assert.equal(hashed.digests.osHashValue, createHash('sha512').update(data).digest('hex'));
    assert.equal(pool.sessions, 0);
  });

  it('uses the os_hash algorithm it is given', async () => {
    const data = randomBytes(100 * KiB);
    const hashed = new HashingTransform('sha256', pool);
    await pipeline(Readable.from([data]), hashed, new PassThrough().resume());
    assert.equal(hashed.digests.osHashValue, createHash('sha256').update(data).digest('hex'));
  });

  it('a source that fails mid-stream fails the pipeline and frees the hashing session', async () => {
    async function* failing() {
      yield randomBytes(200 * KiB);
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('disk read failed');
    }
    const hashed = new HashingTransform(undefined, pool);
    await assert.rejects(pipeline(Readable.from(failing()), hashed, new PassThrough().resume()), /disk read failed/);
    assert.equal(hashed.digests.checksum, null);
    assert.equal(pool.sessions, 0);
  });

  it('a slow consumer holds the source back instead of buffering it all', async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 64 * KiB;
        this.push(produced > 8 * 1024 * KiB ? null : Buffer.alloc(64 * KiB, produced & 0xff));
      },
    });
    const hashed = new HashingTransform(undefined, pool);
    const sink = new PassThrough({ highWaterMark: 16 * KiB });
    const done = pipeline(source, hashed, sink);
    await new Promise((r) => setTimeout(r, 100));
    // Nobody reads the sink: only the streams' own buffers fill, far from the 8 MiB on offer.
    assert.ok(produced < 1024 * KiB, `produced ${produced} bytes with nobody reading`);
    sink.resume();
    await done;
    assert.equal(produced, 8 * 1024 * KiB + 64 * KiB);
    assert.match(hashed.digests.checksum ?? '', /^[0-9a-f]{32}$/);
  });
});
