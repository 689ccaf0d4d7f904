import { createHash, type Hash } from 'node:crypto';
import type { HashReply } from './protocol.js';
import type { HashPool, HashWorker, SessionListener } from './pool.js';

export interface ParallelHashOptions {
  /** Bytes copied into one batch before it is posted: small network chunks cost one message per batch. */
  slotBytes?: number;
  /** Batches in flight at most; with slotBytes this bounds the memory one stream holds. */
  maxSlots?: number;
}

const DEFAULT_SLOT_BYTES = 1024 * 1024;
const DEFAULT_MAX_SLOTS = 4;

interface Slot {
  readonly index: number;
  readonly view: Uint8Array;
  /** Workers that have not acknowledged the batch yet. */
  pending: number;
}

/** One algorithm group of a stream, hashed by one worker. */
class Part implements SessionListener {
  readonly worker: HashWorker;
  readonly sid: number;
  /** Slots whose buffer this part's worker already holds. */
  private readonly known: boolean[] = [];
  private ending: { resolve: (hex: string[]) => void; reject: (err: Error) => void } | null = null;

  constructor(pool: HashPool, algos: string[], private readonly owner: ParallelHash) {
    ({ worker: this.worker, sid: this.sid } = pool.open(algos, this));
  }

  /** Hands one batch to the worker; the slot's buffer travels only the first time. */
  post(slot: Slot, len: number): void {
    if (this.known[slot.index]) {
      this.worker.send({ op: 'data', sid: this.sid, len, slot: slot.index });
    } else {
      this.known[slot.index] = true;
      this.worker.send({ op: 'data', sid: this.sid, buf: slot.view.buffer as SharedArrayBuffer, len, slot: slot.index });
    }
  }

  reply(message: HashReply): void {
    if (message.op === 'ack') this.owner.acknowledged(message.slot);
    else if (message.op === 'digest') this.ending?.resolve(message.hex);
    else this.owner.fail(new Error(`image hashing failed: ${message.message}`));
  }

  fail(err: Error): void {
    this.owner.fail(err);
  }

  end(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.ending = {
        resolve: (hex) => {
          this.worker.detach(this.sid, false);
          resolve(hex);
        },
        reject,
      };
      this.worker.send({ op: 'end', sid: this.sid });
    });
  }

  /** Releases the session; a pending end() rejects with `err`. */
  drop(err: Error): void {
    this.worker.detach(this.sid, true);
    this.ending?.reject(err);
    this.ending = null;
  }
}

/**
 * Digests of one byte stream computed on worker threads. update() copies each chunk into a batch
 * (so callers may reuse or pool their buffers once it is done) and returns a promise only when
 * every batch is still being hashed: the caller waits, which is the back-pressure that bounds memory to
 * maxSlots x slotBytes. A stream that never fills one batch is hashed on the calling thread, so
 * small images never wait for a thread (as is one that cannot get a worker). Digests are hex, in
 * the order of `algos`.
 */
export class ParallelHash {
  private readonly slotBytes: number;
  private readonly maxSlots: number;
  private readonly slots: Slot[] = [];
  private readonly free: Slot[] = [];
  private current: Slot | null = null;
  private fill = 0;
  private parts: Part[] | null = null;
  /** Set when no worker session could be opened: the stream is then hashed on the calling thread. */
  private inline: Hash[] | null = null;
  private waiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  private finished = false;

  constructor(
    private readonly algos: string[],
    private readonly groups: string[][],
    private readonly pool: HashPool,
    options: ParallelHashOptions = {},
  ) {
    this.slotBytes = options.slotBytes ?? DEFAULT_SLOT_BYTES;
    this.maxSlots = Math.max(1, options.maxSlots ?? DEFAULT_MAX_SLOTS);
  }

  /** Bytes of batch memory this stream holds now (at most maxSlots x slotBytes). */
  get bufferedBytes(): number {
    return this.slots.length * this.slotBytes;
  }

  /** Adds bytes. When it returns a promise, the chunk is not fully copied yet: leave it untouched and wait before the next call. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.finished) throw new Error('update() after digest()');
    if (this.waiter) throw new Error('update() while the previous one is still waiting');
    let offset = 0;
    while (offset < chunk.length) {
      const slot = this.current ?? this.take();
      if (slot === null) {
        const rest = chunk.subarray(offset);
        return new Promise<void>((resolve, reject) => {
          this.waiter = { resolve, reject };
        }).then(() => this.update(rest));
      }
      this.current = slot;
      const n = Math.min(chunk.length - offset, this.slotBytes - this.fill);
      slot.view.set(chunk.subarray(offset, offset + n), this.fill);
      this.fill += n;
      offset += n;
      if (this.fill === this.slotBytes) this.post();
    }
    return undefined;
  }

  /** The hex digests, in the order of the algorithms asked for; the hasher is finished afterwards. */
  async digest(): Promise<string[]> {
    if (this.failure) throw this.failure;
    if (this.finished) throw new Error('digest() called twice');
    this.finished = true;
    if (this.parts === null) {
      const hashes = this.inline ?? this.algos.map((algo) => createHash(algo));
      if (this.current) for (const hash of hashes) hash.update(this.current.view.subarray(0, this.fill));
      this.release();
      return hashes.map((hash) => hash.digest('hex'));
    }
    if (this.fill > 0) this.post();
    const parts = this.parts;
    const results = await Promise.all(parts.map((part) => part.end()));
    if (this.failure) throw this.failure;
    this.parts = null;
    this.release();
    return results.flat();
  }

  /** Stops hashing and frees the workers' state; pending calls reject with `reason`. Idempotent. */
  abort(reason: Error = new Error('image hashing aborted')): void {
    this.fail(reason);
  }

  /** @internal A worker finished a batch. */
  acknowledged(index: number): void {
    const slot = this.slots[index];
    if (!slot || this.failure) return;
    slot.pending -= 1;
    if (slot.pending > 0) return;
    this.free.push(slot);
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve();
  }

  /** @internal Fails the stream: workers' sessions are dropped, waiting callers reject. */
  fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.finished = true;
    const parts = this.parts ?? [];
    this.parts = null;
    for (const part of parts) part.drop(err);
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(err);
    this.release();
  }

  private take(): Slot | null {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.slots.length >= this.maxSlots) return null;
    const slot: Slot = { index: this.slots.length, view: new Uint8Array(new SharedArrayBuffer(this.slotBytes)), pending: 0 };
    this.slots.push(slot);
    return slot;
  }

  /** Hands the current batch to every part; opens the sessions on the first batch. */
  private post(): void {
    const slot = this.current;
    if (slot === null) return;
    if (this.parts === null && this.inline === null) {
      try {
        this.parts = this.openParts();
      } catch {
        // No thread could be started (or the pool is closed): slower, but the upload still succeeds.
        this.inline = this.algos.map((algo) => createHash(algo));
      }
    }
    if (this.parts === null) {
      for (const hash of this.inline ?? []) hash.update(slot.view.subarray(0, this.fill));
      this.free.push(slot);
    } else {
      slot.pending = this.parts.length;
      for (const part of this.parts) part.post(slot, this.fill);
    }
    this.current = null;
    this.fill = 0;
  }

  private openParts(): Part[] {
    const parts: Part[] = [];
    try {
      for (const group of this.groups) parts.push(new Part(this.pool, group, this));
    } catch (err) {
      for (const part of parts) part.drop(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    return parts;
  }

  private release(): void {
    this.current = null;
    this.fill = 0;
    this.free.length = 0;
    this.slots.length = 0;
  }
}
