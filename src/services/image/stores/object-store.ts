import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { discard, headerOf, readJson } from './in-process-http.js';
import type { SwiftClient } from './swift-client.js';
import { StoreObjectMissing, type ByteRange, type ImageStore } from './types.js';

const SAFE_KEY = /^[A-Za-z0-9._-]{1,200}$/;
/** Unreferenced segments younger than this may belong to an upload still running elsewhere. */
const PARTIAL_GRACE_MS = 60 * 60_000;

interface ManifestSegment {
  name: string;
}

/**
 * glance_store's swift driver over Nubes' own object storage. Every image is a static large
 * object: its bytes go to `<container>_segments/<key>/<upload id>/<n>` in segments of
 * `chunkSize`, then the manifest is written at `<container>/<key>`, so a put becomes visible all
 * at once and replaces the previous object atomically; the replaced segments are deleted after.
 * A failed or aborted put deletes the segments it wrote. Zero-byte images are plain objects
 * (a manifest needs at least one segment).
 */
export class SwiftImageStore implements ImageStore {
  readonly name = 'swift';
  private readonly segments: string;
  private containers: Promise<void> | null = null;

  constructor(private readonly client: SwiftClient, private readonly container: string, private readonly chunkSize: number, private readonly now: () => number = Date.now) {
    this.segments = `${container}_segments`;
  }

  private check(key: string): string {
    if (!SAFE_KEY.test(key) || key.startsWith('.')) throw new Error(`invalid store key ${JSON.stringify(key)}`);
    return key;
  }

  private ensureContainers(): Promise<void> {
    this.containers ??= (async () => {
      for (const name of [this.container, this.segments]) await discard(await this.client.expect('PUT', `/${name}`, []));
    })();
    this.containers.catch(() => {
      this.containers = null;
    });
    return this.containers;
  }

  async put(key: string, data: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    this.check(key);
    await this.ensureContainers();
    const reader = new ChunkReader(data, signal);
    const upload = randomUUID();
    const written: { path: string; etag: string; size_bytes: number }[] = [];
    let size = 0;
    try {
      if (!(await reader.hasMore())) {
        await discard(await this.client.expect('PUT', `/${this.container}/${key}`, [], { headers: { 'content-length': '0' }, body: Buffer.alloc(0) }));
        await this.deleteSegmentsOf(await this.previousSegments(key, upload));
        return { size: 0 };
      }
      const previous = await this.previousSegments(key, upload);
      while (await reader.hasMore()) {
        const name = `${key}/${upload}/${String(written.length + 1).padStart(8, '0')}`;
        const piece = reader.take(this.chunkSize);
        const res = await this.client.expect('PUT', `/${this.segments}/${name}`, [], { body: piece.stream });
        await discard(res);
        reader.rethrow();
        written.push({ path: `/${this.segments}/${name}`, etag: (headerOf(res, 'etag') ?? '').replace(/"/g, ''), size_bytes: piece.taken() });
        size += piece.taken();
      }
      signal?.throwIfAborted();
      const manifest = JSON.stringify(written);
      await discard(await this.client.expect('PUT', `/${this.container}/${key}?multipart-manifest=put`, [], { headers: { 'content-type': 'application/octet-stream' }, body: manifest }));
      await this.deleteSegmentsOf(previous);
      return { size };
    } catch (err) {
      await this.deleteSegmentsOf(written.map((w) => w.path)).catch(() => undefined);
      throw reader.error ?? err;
    }
  }

  /** Segment paths of the object now at `key` (not those of upload `except`). */
  private async previousSegments(key: string, except: string): Promise<string[]> {
    const res = await this.client.expect('GET', `/${this.container}/${key}?multipart-manifest=get`, [404]);
    if (res.status === 404 || headerOf(res, 'x-static-large-object') === undefined) {
      await discard(res);
      return [];
    }
    const segments = await readJson<ManifestSegment[]>(res);
    return segments.map((s) => s.name).filter((name) => !name.includes(`/${except}/`));
  }

  private async deleteSegmentsOf(paths: string[]): Promise<void> {
    for (const path of paths) await discard(await this.client.expect('DELETE', path, [404]));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    this.check(key);
    const res = await this.client.expect('GET', `/${this.container}/${key}`, [404], range ? { headers: { range: `bytes=${range.start}-${range.end}` } } : {});
    if (res.status === 404) {
      await discard(res);
      throw new StoreObjectMissing(`no object ${key}`);
    }
    return res.body;
  }

  async stat(key: string): Promise<{ size: number } | null> {
    this.check(key);
    const res = await this.client.expect('HEAD', `/${this.container}/${key}`, [404]);
    await discard(res);
    return res.status === 404 ? null : { size: Number(headerOf(res, 'content-length') ?? 0) };
  }

  async delete(key: string): Promise<void> {
    this.check(key);
    // Removes the segments with the manifest; a plain object is simply deleted.
    await discard(await this.client.expect('DELETE', `/${this.container}/${key}?multipart-manifest=delete`, [404]));
  }

  private async listing(container: string): Promise<{ name: string; last_modified: string }[]> {
    const all: { name: string; last_modified: string }[] = [];
    let marker = '';
    for (;;) {
      const res = await this.client.expect('GET', `/${container}?format=json&limit=10000&marker=${encodeURIComponent(marker)}`, [404]);
      if (res.status === 404) {
        await discard(res);
        return all;
      }
      const page = await readJson<{ name: string; last_modified: string }[]>(res);
      all.push(...page);
      const last = page[page.length - 1];
      if (!last) return all;
      marker = last.name;
    }
  }

  async list(): Promise<string[]> {
    return (await this.listing(this.container)).map((o) => o.name);
  }

  /** Keys last written more than `ms` ago (orphans are only sought among those). */
  async listOlderThan(ms: number): Promise<string[]> {
    return (await this.listing(this.container)).filter((o) => this.now() - Date.parse(`${o.last_modified}Z`) >= ms).map((o) => o.name);
  }

  /** Deletes segments no manifest names whose upload wrote nothing for an hour (crashed puts). */
  async cleanupPartial(): Promise<number> {
    const referenced = new Set<string>();
    for (const key of await this.list()) for (const path of await this.previousSegments(key, '-')) referenced.add(path);
    const uploads = new Map<string, { paths: string[]; newest: number }>();
    for (const o of await this.listing(this.segments)) {
      const path = `/${this.segments}/${o.name}`;
      if (referenced.has(path)) continue;
      const upload = o.name.split('/').slice(0, 2).join('/');
      const entry = uploads.get(upload) ?? { paths: [], newest: 0 };
      entry.paths.push(path);
      entry.newest = Math.max(entry.newest, Date.parse(`${o.last_modified}Z`));
      uploads.set(upload, entry);
    }
    let removed = 0;
    for (const { paths, newest } of uploads.values()) {
      if (this.now() - newest < PARTIAL_GRACE_MS) continue;
      await this.deleteSegmentsOf(paths);
      removed += paths.length;
    }
    return removed;
  }

  locationUrl(key: string): string {
    return `swift+nubes:///${this.container}/${key}`;
  }

  keyOf(url: string): string | null {
    const prefix = `swift+nubes:///${this.container}/`;
    return url.startsWith(prefix) && SAFE_KEY.test(url.slice(prefix.length)) ? url.slice(prefix.length) : null;
  }
}

/** Splits one stream into consecutive pieces of at most n bytes without copying it anywhere. */
class ChunkReader {
  private readonly source: AsyncIterator<Buffer>;
  private pending: Buffer | null = null;
  private ended = false;
  error: unknown = null;

  /** Rejects when the put is aborted, so a source that never ends cannot hold the put forever. */
  private readonly abort: Promise<never>;

  constructor(data: Readable, private readonly signal?: AbortSignal) {
    this.source = (data as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.abort = new Promise<never>((_resolve, reject) => {
      if (!signal) return;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    this.abort.catch(() => undefined);
  }

  private async fill(): Promise<void> {
    while (!this.pending && !this.ended) {
      this.signal?.throwIfAborted();
      const step = await Promise.race([this.source.next(), this.abort]);
      if (step.done) this.ended = true;
      else if (step.value.length) this.pending = Buffer.from(step.value);
    }
  }

  async hasMore(): Promise<boolean> {
    try {
      await this.fill();
    } catch (err) {
      this.error = err;
      throw err;
    }
    return this.pending !== null;
  }

  rethrow(): void {
    if (this.error) throw this.error;
  }

  /** A stream of the next (at most) `n` bytes; `taken()` tells how many it delivered. */
  take(n: number): { stream: Readable; taken(): number } {
    let taken = 0;
    const next = async (): Promise<Buffer | null> => {
      if (taken >= n) return null;
      try {
        await this.fill();
      } catch (err) {
        this.error = err;
        throw err;
      }
      const buffer = this.pending;
      if (!buffer) return null;
      const part = buffer.length <= n - taken ? buffer : buffer.subarray(0, n - taken);
      this.pending = part === buffer ? null : buffer.subarray(part.length);
      taken += part.length;
      return part;
    };
    const stream = Readable.from((async function* () {
      for (let part = await next(); part; part = await next()) yield part;
    })(), { objectMode: false });
    return { stream, taken: () => taken };
  }
}

