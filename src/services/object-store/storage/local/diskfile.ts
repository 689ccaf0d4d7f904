import { createHash } from 'node:crypto';
import { createReadStream, existsSync, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { compareTimestamps, normalizeTimestamp } from '../timestamp.js';
import { fsyncDir, tmpName, writeSmallFileDurably } from './fsutil.js';

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
  | { kind: 'data'; timestamp: string; dataFile: string; meta: DataMeta; post?: PostMeta; files: string[] }
  | { kind: 'tombstone'; timestamp: string; tombstone: TombstoneMeta; files: string[] };

export class DeviceUnavailable extends Error {
  override name = 'DeviceUnavailable';
}

export class CorruptObject extends Error {
  override name = 'CorruptObject';
}

export function suffixOf(hash: string): string {
  return hash.slice(-3);
}

export class ObjectDisk {
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
    try {
      return (await readdir(this.hashDir(part, hash))).filter((f) => /\.(data|ts|meta)$/.test(f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Newest state of an object on this device, or null when the device has never seen it. */
  async readState(part: number, hash: string): Promise<OnDiskState | null> {
    this.check();
    const files = await this.listFiles(part, hash);
    const byTs = (a: string, b: string) => compareTimestamps(b.replace(/\.\w+$/, ''), a.replace(/\.\w+$/, ''));
    const main = files.filter((f) => f.endsWith('.data') || f.endsWith('.ts')).sort(byTs)[0];
    if (!main) return null;
    const dir = this.hashDir(part, hash);
    const ts = main.replace(/\.\w+$/, '');
    if (main.endsWith('.ts')) {
      const tombstone = JSON.parse(await readFile(join(dir, main), 'utf8')) as TombstoneMeta;
      return { kind: 'tombstone', timestamp: ts, tombstone, files };
    }
    const dataFile = join(dir, main);
    const meta = await readFooter(dataFile);
    const metaFile = files.filter((f) => f.endsWith('.meta') && compareTimestamps(f.replace(/\.meta$/, ''), ts) > 0).sort(byTs)[0];
    if (!metaFile) return { kind: 'data', timestamp: ts, dataFile, meta, files };
    const post = JSON.parse(await readFile(join(dir, metaFile), 'utf8')) as PostMeta;
    return { kind: 'data', timestamp: post.timestamp, dataFile, meta, post, files };
  }

  openData(dataFile: string, size: number, range?: { start: number; end: number }): Readable {
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size, size);
    if (end <= start) return Readable.from([], { objectMode: false });
    return createReadStream(dataFile, { start, end: end - 1 });
  }

  async writeTombstone(part: number, hash: string, meta: TombstoneMeta): Promise<void> {
    this.check();
    await writeSmallFileDurably(this.tmpDir, join(this.hashDir(part, hash), `${normalizeTimestamp(meta.timestamp)}.ts`), JSON.stringify(meta));
    await this.cleanup(part, hash);
  }

  async writePost(part: number, hash: string, meta: PostMeta): Promise<void> {
    this.check();
    await writeSmallFileDurably(this.tmpDir, join(this.hashDir(part, hash), `${normalizeTimestamp(meta.timestamp)}.meta`), JSON.stringify(meta));
    await this.cleanup(part, hash);
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
      keep.add(state.dataFile.slice(dir.length + 1));
      if (state.post) keep.add(`${normalizeTimestamp(state.post.timestamp)}.meta`);
    } else if (!reclaimBefore || compareTimestamps(state.timestamp, reclaimBefore) >= 0) {
      keep.add(`${state.timestamp}.ts`);
    }
    for (const f of state.files) if (!keep.has(f)) await rm(join(dir, f), { force: true });
    if (keep.size === 0) await rm(dir, { recursive: true, force: true });
  }

  /** Partitions present on this device (including handoffs). */
  async partitions(): Promise<number[]> {
    try {
      return (await readdir(this.objectsDir())).filter((p) => /^\d+$/.test(p)).map(Number);
    } catch {
      return [];
    }
  }

  async hashesIn(part: number, suffix?: string): Promise<Array<{ suffix: string; hash: string }>> {
    const base = join(this.objectsDir(), String(part));
    const out: Array<{ suffix: string; hash: string }> = [];
    const suffixes = suffix ? [suffix] : await readdir(base).catch(() => [] as string[]);
    for (const s of suffixes) for (const h of await readdir(join(base, s)).catch(() => [] as string[])) out.push({ suffix: s, hash: h });
    return out;
  }

  /** md5 over each suffix's file names: replicas agree on a suffix iff they hold the same files. */
  async suffixHashes(part: number): Promise<Map<string, string>> {
    this.check();
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

  /** Moves a corrupt hash directory aside so no reader or replicator ever serves it again. */
  async quarantine(part: number, hash: string): Promise<string> {
    const target = join(this.root, 'quarantined', 'objects', `${hash}-${Date.now()}`);
    await mkdir(join(this.root, 'quarantined', 'objects'), { recursive: true });
    await rename(this.hashDir(part, hash), target);
    return target;
  }

  /** Copies a committed file from another device durably (replication of local devices). */
  async importFile(part: number, hash: string, name: string, source: string): Promise<void> {
    this.check();
    await writeSmallFileDurably(this.tmpDir, join(this.hashDir(part, hash), name), await readFile(source));
  }
}

/** The temp file of one replica being written. */
export class DataWriter {
  private closed = false;

  constructor(
    private readonly disk: ObjectDisk,
    private readonly fh: FileHandle,
    private readonly tmp: string,
    private readonly part: number,
    private readonly hash: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
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
