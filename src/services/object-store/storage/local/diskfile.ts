import { createHash } from 'node:crypto';
import { createReadStream, existsSync, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { compareTimestamps, normalizeTimestamp } from '../timestamp.js';
import { fsyncDir, tmpName, writeAll, writeFileDurably } from './fsutil.js';
import type { AsyncPending, ObjectServer, ReplicaWriter } from './device.js';

/**
 * One object server's view of one device. Layout (Swift's):
 *
 *   <device>/objects/<partition>/<suffix>/<hash>/<timestamp>.data | .ts | .meta
 *
 * A .data file is the object bytes followed by a JSON footer and an 8-byte trailer
 * (uint32 BE footer length + "NBO1"): metadata is only known once the body has streamed
 * (ETag, size), and a footer keeps data and metadata in one atomically renamed file without
 * xattrs. .ts (tombstone) and .meta (POST) files are plain JSON.
 */

export const FOOTER_MAGIC = Buffer.from('NBO1');
const TRAILER = 8;

export interface DataMeta {
  name: string;
  account: string;
  container: string;
  timestamp: string;
  contentType: string;
  etag: string;
  size: number;
  headers: Record<string, string>;
}

export interface PostMeta {
  timestamp: string;
  contentType?: string;
  headers: Record<string, string>;
}

export interface TombstoneMeta {
  name: string;
  account: string;
  container: string;
  timestamp: string;
}

/** What a hash directory resolves to: newest data (+ newer .meta) or a tombstone. */
export type OnDiskState =
  | { kind: 'data'; timestamp: string; dataName: string; meta: DataMeta; post?: PostMeta; files: string[] }
  | { kind: 'tombstone'; timestamp: string; tombstone: TombstoneMeta; files: string[] };

/** The files that make up a state: the data file and its newer .meta, or the tombstone. */
export function keptFiles(s: OnDiskState): string[] {
  if (s.kind === 'tombstone') return [`${s.timestamp}.ts`];
  return s.post ? [s.dataName, `${normalizeTimestamp(s.post.timestamp)}.meta`] : [s.dataName];
}

/** Newest wins: by the data/tombstone timestamp, then by a newer .meta. */
export function isNewerState(a: OnDiskState, b: OnDiskState): boolean {
  const main = (s: OnDiskState) => keptFiles(s)[0]!.replace(/\.\w+$/, '');
  const c = compareTimestamps(main(a), main(b));
  return c !== 0 ? c > 0 : compareTimestamps(a.timestamp, b.timestamp) > 0;
}

export class DeviceUnavailable extends Error {
  override name = 'DeviceUnavailable';
}

export class CorruptObject extends Error {
  override name = 'CorruptObject';
}

export function suffixOf(hash: string): string {
  return hash.slice(-3);
}

/** The file names an object server accepts: <timestamp>.data | .ts | .meta. */
export const OBJECT_FILE_RE = /^\d{10}\.\d{5}\.(data|ts|meta)$/;

const byNewestFirst = (a: string, b: string) => compareTimestamps(b.replace(/\.\w+$/, ''), a.replace(/\.\w+$/, ''));

/** The object server of one local device directory. */
export class ObjectDisk implements ObjectServer {
  /** Failure injection and mount check: an offline device refuses everything (Swift's 507). */
  offline = false;

  constructor(
    readonly id: number,
    readonly root: string,
  ) {}

  get tmpDir(): string {
    return join(this.root, 'tmp');
  }

  objectsDir(): string {
    return join(this.root, 'objects');
  }

  hashDir(part: number, hash: string): string {
    return join(this.root, 'objects', String(part), suffixOf(hash), hash);
  }

  filePath(part: number, hash: string, name: string): string {
    return join(this.hashDir(part, hash), name);
  }

  check(): void {
    if (this.offline || !existsSync(this.root)) throw new DeviceUnavailable(`device ${this.id} (${this.root}) is unavailable`);
  }

  /** Opens a temp file in <device>/tmp; bytes are appended by the caller, then `commit`. */
  async createWriter(part: number, hash: string): Promise<DataWriter> {
    this.check();
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = tmpName(this.tmpDir);
    const fh = await open(tmp, 'w');
    return new DataWriter(this, fh, tmp, part, hash);
  }

  async listFiles(part: number, hash: string): Promise<string[]> {
    this.check();
    try {
      return (await readdir(this.hashDir(part, hash))).filter((f) => OBJECT_FILE_RE.test(f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async readState(part: number, hash: string): Promise<OnDiskState | null> {
    const files = await this.listFiles(part, hash);
    const main = files.filter((f) => f.endsWith('.data') || f.endsWith('.ts')).sort(byNewestFirst)[0];
    if (!main) return null;
    const ts = main.replace(/\.\w+$/, '');
    if (main.endsWith('.ts')) {
      const tombstone = await readJson<TombstoneMeta>(this.filePath(part, hash, main));
      return { kind: 'tombstone', timestamp: ts, tombstone, files };
    }
    const meta = await readFooter(this.filePath(part, hash, main));
    const metaFile = files.filter((f) => f.endsWith('.meta') && compareTimestamps(f.replace(/\.meta$/, ''), ts) > 0).sort(byNewestFirst)[0];
    if (!metaFile) return { kind: 'data', timestamp: ts, dataName: main, meta, files };
    const post = await readJson<PostMeta>(this.filePath(part, hash, metaFile));
    return { kind: 'data', timestamp: post.timestamp, dataName: main, meta, post, files };
  }

  async openData(part: number, hash: string, dataName: string, size: number, range?: { start: number; end: number }): Promise<Readable> {
    this.check();
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size, size);
    if (end <= start) return Readable.from([], { objectMode: false });
    // Opened lazily: a caller that never reads (a HEAD-like answer) holds no descriptor.
    return createReadStream(this.filePath(part, hash, dataName), { start, end: end - 1 });
  }

  async putFile(part: number, hash: string, name: string, body: Readable | Buffer | string): Promise<void> {
    this.check();
    await writeFileDurably(this.tmpDir, this.filePath(part, hash, name), body);
    await this.cleanup(part, hash);
  }

  async readFile(part: number, hash: string, name: string): Promise<Readable> {
    this.check();
    return createReadStream(this.filePath(part, hash, name));
  }

  /**
   * Keeps only what the newest state needs: the newest .data/.ts and, for data, the newest
   * newer .meta (Swift's hash_cleanup_listdir). Tombstones older than `reclaimBefore` go too.
   */
  async cleanup(part: number, hash: string, reclaimBefore?: string): Promise<void> {
    const state = await this.readState(part, hash).catch(() => null);
    if (!state) return;
    const dir = this.hashDir(part, hash);
    const keep = new Set<string>();
    if (state.kind === 'data') {
      keep.add(state.dataName);
      if (state.post) keep.add(`${normalizeTimestamp(state.post.timestamp)}.meta`);
    } else if (!reclaimBefore || compareTimestamps(state.timestamp, reclaimBefore) >= 0) {
      keep.add(`${state.timestamp}.ts`);
    }
    for (const f of state.files) if (!keep.has(f)) await rm(join(dir, f), { force: true });
    if (keep.size === 0) await rm(dir, { recursive: true, force: true });
  }

  async partitions(): Promise<number[]> {
    this.check();
    try {
      return (await readdir(this.objectsDir())).filter((p) => /^\d+$/.test(p)).map(Number);
    } catch {
      return [];
    }
  }

  async hashesIn(part: number, suffix?: string): Promise<Array<{ suffix: string; hash: string }>> {
    this.check();
    const base = join(this.objectsDir(), String(part));
    const out: Array<{ suffix: string; hash: string }> = [];
    const suffixes = suffix ? [suffix] : await readdir(base).catch(() => [] as string[]);
    for (const s of suffixes) for (const h of await readdir(join(base, s)).catch(() => [] as string[])) out.push({ suffix: s, hash: h });
    return out;
  }

  async suffixHashes(part: number): Promise<Map<string, string>> {
    const bySuffix = new Map<string, string[]>();
    for (const { suffix, hash } of await this.hashesIn(part)) {
      const files = (await this.listFiles(part, hash)).sort();
      if (files.length === 0) continue;
      const list = bySuffix.get(suffix) ?? [];
      list.push(`${hash}:${files.join(',')}`);
      bySuffix.set(suffix, list);
    }
    const out = new Map<string, string>();
    for (const [s, list] of bySuffix) out.set(s, createHash('md5').update(list.sort().join('\n')).digest('hex'));
    return out;
  }

  async removePartition(part: number): Promise<void> {
    this.check();
    await rm(join(this.objectsDir(), String(part)), { recursive: true, force: true });
  }

  /** Moves a corrupt hash directory aside so no reader or replicator ever serves it again. */
  async quarantine(part: number, hash: string): Promise<void> {
    await this.quarantineDir(part, hash);
  }

  /** quarantine(), telling where the files went (the auditor reports it). */
  async quarantineDir(part: number, hash: string): Promise<string> {
    const target = join(this.root, 'quarantined', 'objects', `${hash}-${Date.now()}`);
    await mkdir(join(this.root, 'quarantined', 'objects'), { recursive: true });
    await rename(this.hashDir(part, hash), target);
    return target;
  }

  // ---- async pendings: <device>/async_pending/<suffix>/<hash>-<timestamp> --------------

  async saveAsyncPending(pending: AsyncPending): Promise<string> {
    this.check();
    const hash = hashOfPending(pending);
    const id = `${suffixOf(hash)}/${hash}-${normalizeTimestamp(pending.row.createdAt)}${pending.intent ? '.intent' : ''}`;
    // Intents only guard against a crash of this process (see AsyncPending.intent): no fsync.
    await writeFileDurably(this.tmpDir, join(this.root, 'async_pending', id), JSON.stringify(pending), !pending.intent);
    return id;
  }

  async asyncPendings(limit: number): Promise<Array<{ id: string; pending: AsyncPending }>> {
    this.check();
    const base = join(this.root, 'async_pending');
    const out: Array<{ id: string; pending: AsyncPending }> = [];
    for (const suffix of await readdir(base).catch(() => [] as string[])) {
      for (const f of await readdir(join(base, suffix)).catch(() => [] as string[])) {
        if (out.length >= limit) return out;
        const pending = await readJson<AsyncPending>(join(base, suffix, f)).catch(() => null);
        if (pending) out.push({ id: `${suffix}/${f}`, pending });
      }
    }
    return out;
  }

  async dropAsyncPending(id: string): Promise<void> {
    this.check();
    if (!ASYNC_PENDING_ID_RE.test(id)) throw new Error(`bad async pending id ${id}`);
    await rm(join(this.root, 'async_pending', id), { force: true });
  }
}

export const ASYNC_PENDING_ID_RE = /^[0-9a-f]{3}\/[0-9a-f]{32}-\d{10}\.\d{5}(\.intent)?$/;

/** Async pendings are filed under a hash of the container row's path, like Swift's. */
function hashOfPending(p: AsyncPending): string {
  return createHash('md5').update(`/${p.account}/${p.container}/${p.row.name}`).digest('hex');
}

async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (err instanceof SyntaxError) throw new CorruptObject(`${path}: unreadable`);
    throw err;
  }
}

/** The temp file of one replica being written. */
export class DataWriter implements ReplicaWriter {
  private closed = false;

  constructor(
    private readonly disk: ObjectDisk,
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly part: number,
    private readonly hash: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    await writeAll(this.fh, chunk);
  }

  /** Footer, fsync, rename into the hash dir, fsync the dir: only then is the replica durable. */
  async commit(meta: DataMeta): Promise<void> {
    const footer = Buffer.from(JSON.stringify(meta));
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUInt32BE(footer.length, 0);
    FOOTER_MAGIC.copy(trailer, 4);
    await this.write(Buffer.concat([footer, trailer]));
    await this.fh.sync();
    await this.fh.close();
    this.closed = true;
    const dir = this.disk.hashDir(this.part, this.hash);
    await mkdir(dir, { recursive: true });
    await rename(this.tmp, join(dir, `${normalizeTimestamp(meta.timestamp)}.data`));
    await fsyncDir(dir);
    await this.disk.cleanup(this.part, this.hash);
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.tmp, { force: true });
  }
}

export async function readFooter(dataFile: string, st?: Stats): Promise<DataMeta> {
  const fh = await open(dataFile, 'r');
  try {
    const size = (st ?? (await fh.stat())).size;
    if (size < TRAILER) throw new CorruptObject(`${dataFile}: too short`);
    const trailer = Buffer.alloc(TRAILER);
    await fh.read(trailer, 0, TRAILER, size - TRAILER);
    if (!trailer.subarray(4).equals(FOOTER_MAGIC)) throw new CorruptObject(`${dataFile}: bad trailer`);
    const len = trailer.readUInt32BE(0);
    if (len > size - TRAILER) throw new CorruptObject(`${dataFile}: bad footer length`);
    const footer = Buffer.alloc(len);
    await fh.read(footer, 0, len, size - TRAILER - len);
    let meta: DataMeta;
    try {
      meta = JSON.parse(footer.toString('utf8')) as DataMeta;
    } catch {
      throw new CorruptObject(`${dataFile}: unreadable footer`);
    }
    if (meta.size !== size - TRAILER - len) throw new CorruptObject(`${dataFile}: size mismatch`);
    return meta;
  } finally {
    await fh.close();
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
