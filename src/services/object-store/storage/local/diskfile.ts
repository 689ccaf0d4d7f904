import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { compareTimestamps, normalizeTimestamp } from '../timestamp.js';
import { openTemp, refuseIfStale, renameDurably, writeAll, writeFileDurably, writeSmallDurably } from './fsutil.js';
import type { AsyncPending, ObjectServer, ReplicaWriter } from './device.js';
import { diskWorkers, WorkerUnavailable, type StateResult } from './disk-worker.js';
import { FileBody } from './file-body.js';
import { IntentLog } from './intents.js';

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
/** A large body being written is flushed to the disk in the background every this many bytes. */
const WRITE_BACK_BYTES = 8 * 1024 * 1024;
/** Largest read of a data file's bytes when streaming it out (one buffer per GET in flight). */
/** Bodies up to this size are gathered in memory and written with the footer in one go. */
export const SMALL_OBJECT_BYTES = 64 * 1024;
/** How long a device directory seen to exist is taken to still exist. */
const MOUNT_CHECK_MS = 1000;
/** A data file's first read: a whole small object with its footer, or at least its beginning. */
export const FIRST_READ = 16 * 1024;

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

/**
 * What a hash directory resolves to: newest data (+ newer .meta) or a tombstone. `inline` holds
 * the object bytes when the data file was small enough to be read whole while looking for its
 * footer; it is local to this process (not enumerable, so never sent by a storage agent).
 */
export type OnDiskState =
  | { kind: 'data'; timestamp: string; dataName: string; meta: DataMeta; post?: PostMeta; files: string[]; inline?: Buffer }
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

/** A commit refused because the device already holds a version as new or newer: nothing changed. */
export class StaleWrite extends Error {
  override name = 'StaleWrite';
}

function staleAsError(err: unknown): never {
  if ((err as NodeJS.ErrnoException | null)?.code === 'ESTALEWRITE') throw new StaleWrite('a newer version of the object exists');
  throw err;
}

export function suffixOf(hash: string): string {
  return hash.slice(-3);
}

/** The file names an object server accepts: <timestamp>.data | .ts | .meta. */
export const OBJECT_FILE_RE = /^\d{10}\.\d{5}\.(data|ts|meta)$/;

const byNewestFirst = (a: string, b: string) => compareTimestamps(b.replace(/\.\w+$/, ''), a.replace(/\.\w+$/, ''));

/** By name alone: the newest .data/.ts, and for data the newest .meta newer than it. */
function newestFiles(files: string[]): { main?: string; meta?: string } {
  const main = files.filter((f) => f.endsWith('.data') || f.endsWith('.ts')).sort(byNewestFirst)[0];
  if (!main?.endsWith('.data')) return { main };
  const ts = main.replace(/\.\w+$/, '');
  return { main, meta: files.filter((f) => f.endsWith('.meta') && compareTimestamps(f.replace(/\.meta$/, ''), ts) > 0).sort(byNewestFirst)[0] };
}

/** The object server of one local device directory. */
export class ObjectDisk implements ObjectServer {
  /** Failure injection and mount check: an offline device refuses everything (Swift's 507). */
  offline = false;
  private readonly intents: IntentLog;
  /** Intents listed from files (as older versions kept them); any other intent is a row. */
  private readonly intentFiles = new Set<string>();

  constructor(
    readonly id: number,
    readonly root: string,
  ) {
    this.intents = new IntentLog(join(root, 'intents.sqlite'));
  }

  close(): void {
    this.intents.close();
  }

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

  private rootSeenAt = -Infinity;

  /** The mount check, done at most once a second (a request asks several times). */
  check(): void {
    if (this.offline) throw new DeviceUnavailable(`device ${this.id} (${this.root}) is unavailable`);
    const now = Date.now();
    if (now - this.rootSeenAt < MOUNT_CHECK_MS) return;
    if (!existsSync(this.root)) throw new DeviceUnavailable(`device ${this.id} (${this.root}) is unavailable`);
    this.rootSeenAt = now;
  }

  /**
   * A writer for one replica: bytes are appended by the caller, then `commit`. The temp file in
   * <device>/tmp is only opened once the body outgrows SMALL_OBJECT_BYTES; smaller bodies stay
   * in memory and reach the disk at commit, footer included, in one write.
   */
  async createWriter(part: number, hash: string): Promise<DataWriter> {
    this.check();
    return new DataWriter(this, part, hash);
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
    this.check();
    let read: StateResult;
    try {
      read = await diskWorkers.reads.state({ op: 'state', dir: this.hashDir(part, hash), firstRead: FIRST_READ });
    } catch (err) {
      if (err instanceof WorkerUnavailable) return this.readStateHere(part, hash);
      throw err;
    }
    return this.stateOf(part, hash, read);
  }

  /** The state from what a disk worker read; unusual files (a footer longer than its reads) are read again here. */
  private async stateOf(part: number, hash: string, r: StateResult): Promise<OnDiskState | null> {
    const { files, main } = r;
    if (!main) return null;
    const ts = main.replace(/\.\w+$/, '');
    const path = this.filePath(part, hash, main);
    if (main.endsWith('.ts')) return { kind: 'tombstone', timestamp: ts, tombstone: parseJson<TombstoneMeta>(path, r.mainText ?? ''), files };
    const post = r.meta ? parseJson<PostMeta>(this.filePath(part, hash, r.meta), r.metaText ?? '') : undefined;
    const size = r.size ?? 0;
    const head = r.head ? Buffer.from(r.head.buffer, r.head.byteOffset, r.head.byteLength) : Buffer.alloc(0);
    const parsed = parseFooter(path, size, r.tail ? Buffer.from(r.tail.buffer, r.tail.byteOffset, r.tail.byteLength) : head);
    const found = 'need' in parsed ? await readDataFile(path) : { meta: parsed.meta, inline: r.tail ? undefined : head.subarray(0, parsed.meta.size) };
    const state: OnDiskState = post ? { kind: 'data', timestamp: post.timestamp, dataName: main, meta: found.meta, post, files } : { kind: 'data', timestamp: ts, dataName: main, meta: found.meta, files };
    if (found.inline) Object.defineProperty(state, 'inline', { value: found.inline, enumerable: false });
    return state;
  }

  private async readStateHere(part: number, hash: string): Promise<OnDiskState | null> {
    const files = await this.listFiles(part, hash);
    const { main, meta: metaFile } = newestFiles(files);
    if (!main) return null;
    const ts = main.replace(/\.\w+$/, '');
    if (main.endsWith('.ts')) {
      const tombstone = await readJson<TombstoneMeta>(this.filePath(part, hash, main));
      return { kind: 'tombstone', timestamp: ts, tombstone, files };
    }
    const [{ meta, inline }, post] = await Promise.all([readDataFile(this.filePath(part, hash, main)), metaFile ? readJson<PostMeta>(this.filePath(part, hash, metaFile)) : undefined]);
    const state: OnDiskState = post ? { kind: 'data', timestamp: post.timestamp, dataName: main, meta, post, files } : { kind: 'data', timestamp: ts, dataName: main, meta, files };
    if (inline) Object.defineProperty(state, 'inline', { value: inline, enumerable: false });
    return state;
  }

  async openData(part: number, hash: string, dataName: string, size: number, range?: { start: number; end: number }): Promise<Readable> {
    this.check();
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size, size);
    if (end <= start) return Readable.from([], { objectMode: false });
    // Opened lazily: a caller that never reads (a HEAD-like answer) holds no descriptor.
    // Reads of up to 1 MiB, not Node's 64 KiB: one thread-pool round trip and one socket write per MiB.
    return new FileBody(this.filePath(part, hash, dataName), start, end);
  }

  async putFile(part: number, hash: string, name: string, body: Readable | Buffer | string): Promise<void> {
    this.check();
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const written = await writeSmallDurably(this.tmpDir, this.hashDir(part, hash), name, [Buffer.from(body)]);
      return this.afterCommit(part, hash, written);
    }
    await writeFileDurably(this.tmpDir, this.filePath(part, hash, name), body);
    await this.cleanup(part, hash);
  }

  /**
   * A file was committed into the hash directory: when the directory existed, older files may
   * be obsolete now (`files`: what it holds, when the writer listed it).
   */
  async afterCommit(part: number, hash: string, written: { existed: boolean; files?: string[] }): Promise<void> {
    if (!written.existed) return;
    if (!written.files) return this.cleanup(part, hash);
    if (written.files.length > 1) await this.removeObsolete(part, hash, written.files);
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
    await this.removeObsolete(part, hash, await this.listFiles(part, hash).catch(() => [] as string[]), reclaimBefore);
  }

  /** By file names alone: the files a state is made of are named by their timestamps. */
  private async removeObsolete(part: number, hash: string, files: string[], reclaimBefore?: string): Promise<void> {
    const { main, meta } = newestFiles(files);
    if (!main) return;
    const dir = this.hashDir(part, hash);
    const keep = new Set<string>();
    if (main.endsWith('.data')) {
      keep.add(main);
      if (meta) keep.add(meta);
    } else if (!reclaimBefore || compareTimestamps(main.replace(/\.ts$/, ''), reclaimBefore) >= 0) {
      keep.add(main);
    }
    await Promise.all(files.filter((f) => !keep.has(f)).map((f) => rm(join(dir, f), { force: true })));
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
    // Intents only guard against a crash of this process (see AsyncPending.intent): a table row.
    if (pending.intent) await this.intents.save(id, pending);
    else await writeFileDurably(this.tmpDir, join(this.root, 'async_pending', id), JSON.stringify(pending));
    return id;
  }

  async asyncPendings(limit: number): Promise<Array<{ id: string; pending: AsyncPending }>> {
    this.check();
    const base = join(this.root, 'async_pending');
    const out: Array<{ id: string; pending: AsyncPending }> = [];
    // Files: confirmed pendings (and the intent files of older versions)
    for (const suffix of await readdir(base).catch(() => [] as string[])) {
      for (const f of await readdir(join(base, suffix)).catch(() => [] as string[])) {
        if (out.length >= limit) return out;
        const pending = await readJson<AsyncPending>(join(base, suffix, f)).catch(() => null);
        if (!pending) continue;
        const id = `${suffix}/${f}`;
        if (id.endsWith('.intent')) this.intentFiles.add(id);
        out.push({ id, pending });
      }
    }
    return [...out, ...this.intents.list(limit - out.length)];
  }

  async dropAsyncPending(id: string): Promise<void> {
    this.check();
    if (!ASYNC_PENDING_ID_RE.test(id)) throw new Error(`bad async pending id ${id}`);
    if (id.endsWith('.intent') && !this.intentFiles.delete(id)) return this.intents.drop(id);
    await rm(join(this.root, 'async_pending', id), { force: true });
  }
}

export const ASYNC_PENDING_ID_RE = /^[0-9a-f]{3}\/[0-9a-f]{32}-\d{10}\.\d{5}(\.intent)?$/;

/** Async pendings are filed under a hash of the container row's path, like Swift's. */
function hashOfPending(p: AsyncPending): string {
  return createHash('md5').update(`/${p.account}/${p.container}/${p.row.name}`).digest('hex');
}

async function readJson<T>(path: string): Promise<T> {
  return parseJson<T>(path, await readFile(path, 'utf8'));
}

function parseJson<T>(path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CorruptObject(`${path}: unreadable`);
  }
}

/**
 * One replica being written: small bodies gather in memory, larger ones spill to a temp file in
 * <device>/tmp as they arrive.
 */
export class DataWriter implements ReplicaWriter {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private file: { fh: FileHandle; tmp: string } | null = null;
  private closed = false;
  private aborted = false;

  constructor(
    private readonly disk: ObjectDisk,
    private readonly part: number,
    private readonly hash: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.aborted) throw new Error('write after abort');
    if (!this.file && this.heldBytes + chunk.length <= SMALL_OBJECT_BYTES) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return;
    }
    const file = await this.spill();
    await writeAll(file.fh, chunk);
    this.writeBack(file.fh, chunk.length);
  }

  /** Footer, fsync, rename into the hash dir, fsync the dir: only then is the replica durable. */
  async commit(meta: DataMeta): Promise<void> {
    const footer = Buffer.from(JSON.stringify(meta));
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUInt32BE(footer.length, 0);
    FOOTER_MAGIC.copy(trailer, 4);
    const dir = this.disk.hashDir(this.part, this.hash);
    const name = `${normalizeTimestamp(meta.timestamp)}.data`;
    let written: { existed: boolean; files?: string[] };
    if (!this.file) {
      this.closed = true;
      const held = this.held.splice(0);
      written = await writeSmallDurably(this.disk.tmpDir, dir, name, [...held, footer, trailer], true).catch(staleAsError);
    } else {
      const { fh, tmp } = this.file;
      await writeAll(fh, Buffer.concat([footer, trailer]));
      await this.writtenBack();
      await fh.datasync();
      await fh.close();
      this.closed = true;
      await refuseIfStale(dir, name).catch(staleAsError);
      written = { existed: await renameDurably(tmp, dir, name, this.disk.root) };
    }
    await this.disk.afterCommit(this.part, this.hash, written);
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.held.length = 0;
    if (!this.file) return;
    if (!this.closed) {
      this.closed = true;
      await this.file.fh.close().catch(() => undefined);
    }
    await rm(this.file.tmp, { force: true });
  }

  private unsynced = 0;
  private syncing: Promise<void> | null = null;
  private syncError: unknown = null;

  /**
   * A large body's pages go to the disk while it is still arriving: every WRITE_BACK_BYTES a
   * datasync starts in the background (one at a time), so the one at commit finds little left
   * to write, as the kernel would only start on its own after gigabytes of dirty pages. Its
   * error is kept for commit: a failed flush must not be forgotten (the kernel reports it once).
   */
  private writeBack(fh: FileHandle, bytes: number): void {
    this.unsynced += bytes;
    if (this.unsynced < WRITE_BACK_BYTES || this.syncing) return;
    this.unsynced = 0;
    this.syncing = fh.datasync().then(
      () => {
        this.syncing = null;
      },
      (err: unknown) => {
        this.syncError ??= err;
        this.syncing = null;
      },
    );
  }

  /** Waits for the background datasync, if any; rethrows a failed one. */
  private async writtenBack(): Promise<void> {
    await this.syncing;
    if (this.syncError) throw this.syncError;
  }

  /** Opens the temp file and writes what was held so far. */
  private async spill(): Promise<{ fh: FileHandle; tmp: string }> {
    if (this.file) return this.file;
    this.file = await openTemp(this.disk.tmpDir);
    if (this.aborted) {
      // abort() ran while the file was being opened
      await this.file.fh.close().catch(() => undefined);
      await rm(this.file.tmp, { force: true });
      throw new Error('write after abort');
    }
    const held = this.held.splice(0);
    this.heldBytes = 0;
    for (const chunk of held) await writeAll(this.file.fh, chunk);
    return this.file;
  }
}

/** Footer of a data file from its last bytes (`tail` ends where the file ends). */
function parseFooter(dataFile: string, size: number, tail: Buffer): { meta: DataMeta; footerLength: number } | { need: number } {
  if (size < TRAILER) throw new CorruptObject(`${dataFile}: too short`);
  const trailer = tail.subarray(tail.length - TRAILER);
  if (!trailer.subarray(4).equals(FOOTER_MAGIC)) throw new CorruptObject(`${dataFile}: bad trailer`);
  const len = trailer.readUInt32BE(0);
  if (len > size - TRAILER) throw new CorruptObject(`${dataFile}: bad footer length`);
  if (len + TRAILER > tail.length) return { need: len + TRAILER };
  let meta: DataMeta;
  try {
    meta = JSON.parse(tail.subarray(tail.length - TRAILER - len, tail.length - TRAILER).toString('utf8')) as DataMeta;
  } catch {
    throw new CorruptObject(`${dataFile}: unreadable footer`);
  }
  if (meta.size !== size - TRAILER - len) throw new CorruptObject(`${dataFile}: size mismatch`);
  return { meta, footerLength: len };
}

/**
 * A data file's footer, and its object bytes when the file is small: one read from the start
 * usually gets the whole of a small file (open, read, close), larger ones take a stat and a read
 * of the end.
 */
export async function readDataFile(dataFile: string): Promise<{ meta: DataMeta; inline?: Buffer }> {
  const fh = await open(dataFile, 'r');
  try {
    const first = Buffer.allocUnsafe(FIRST_READ);
    const { bytesRead } = await fh.read(first, 0, FIRST_READ, 0);
    const size = bytesRead < FIRST_READ ? bytesRead : (await fh.stat()).size;
    if (size <= FIRST_READ) {
      const whole = first.subarray(0, size);
      const parsed = parseFooter(dataFile, size, whole);
      if ('need' in parsed) throw new CorruptObject(`${dataFile}: bad footer length`);
      return { meta: parsed.meta, inline: whole.subarray(0, parsed.meta.size) };
    }
    let tail = Buffer.allocUnsafe(Math.min(size, FIRST_READ));
    await readFully(fh, tail, size - tail.length);
    let parsed = parseFooter(dataFile, size, tail);
    if ('need' in parsed) {
      tail = Buffer.allocUnsafe(parsed.need);
      await readFully(fh, tail, size - tail.length);
      parsed = parseFooter(dataFile, size, tail);
      if ('need' in parsed) throw new CorruptObject(`${dataFile}: bad footer length`);
    }
    return { meta: parsed.meta };
  } finally {
    await fh.close();
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new CorruptObject('data file shrank while being read');
    off += bytesRead;
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
