import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { diskWorkers, WorkerUnavailable } from './disk-worker.js';

/** fsync a directory so a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function tmpName(tmpDir: string): string {
  return join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.tmp`);
}

/** Opens a new temp file in `tmpDir`, creating the directory only when it is missing. */
export async function openTemp(tmpDir: string): Promise<{ fh: FileHandle; tmp: string }> {
  const tmp = tmpName(tmpDir);
  try {
    return { fh: await open(tmp, 'w'), tmp };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // not recursive: a device directory that vanished (an unmounted disk) is never recreated
    await mkdir(tmpDir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    return { fh: await open(tmp, 'w'), tmp };
  }
}

/**
 * Renames a synced temp file to `dir/name` and makes the new name durable: the directory is
 * fsync'ed, and so is the parent of every directory this call had to create (Swift's renamer).
 * The common case (the directory exists) costs no mkdir at all. `root` (the device directory)
 * is known to exist durably. Tells whether `dir` existed, i.e. whether older files may sit next
 * to the new one.
 */
export async function renameDurably(tmp: string, dir: string, name: string, root: string): Promise<boolean> {
  try {
    await rename(tmp, join(dir, name));
    await fsyncDir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!existsSync(root)) throw Object.assign(new Error(`device ${root} is gone`), { code: 'ENODEV' });
  // A concurrent writer may create the directories first (mkdir then returns undefined) and not
  // have synced them yet: then every level below `root` is synced here too.
  const first = (await mkdir(dir, { recursive: true })) ?? root;
  await rename(tmp, join(dir, name));
  const synced = [dir];
  // every created directory's entry lives in its parent: fsync those parents as well
  for (let d = dir; d.length > root.length && d.length >= first.length; d = dirname(d)) synced.push(dirname(d));
  await Promise.all(synced.map(fsyncDir));
  return false;
}

/**
 * A small file in one go: temp file, one gathered write, fdatasync, then renameDurably (the
 * device directory is the parent of `tmpDir`), all on a disk worker (one round trip), or here
 * through the thread pool when no worker can run. Tells whether `dir` existed and, when a
 * worker listed it, the object files it now holds.
 */
export async function writeSmallDurably(tmpDir: string, dir: string, name: string, chunks: Buffer[], newerWins = false): Promise<{ existed: boolean; files?: string[] }> {
  try {
    return await diskWorkers.writes.write({ op: 'write', tmpDir, root: dirname(tmpDir), dir, name, chunks, newerWins });
  } catch (err) {
    if (!(err instanceof WorkerUnavailable)) throw err;
  }
  return { existed: await writeSmallHere(tmpDir, dir, name, chunks, newerWins) };
}

/** The refusal of a write older than (or as old as) what `dir` holds, as a disk worker reports it. */
export function staleWriteError(): Error {
  return Object.assign(new Error('a newer version of the object exists'), { code: 'ESTALEWRITE' });
}

/** Throws staleWriteError when `dir` holds a file named with a timestamp at or after `name`'s. */
export async function refuseIfStale(dir: string, name: string): Promise<void> {
  const held = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const stem = name.slice(0, 16);
  if (held.some((f) => /^\d{10}\.\d{5}\.(data|ts|meta)$/.test(f) && f.slice(0, 16) >= stem)) throw staleWriteError();
}

async function writeSmallHere(tmpDir: string, dir: string, name: string, chunks: Buffer[], newerWins: boolean): Promise<boolean> {
  const { fh, tmp } = await openTemp(tmpDir);
  try {
    await writevAll(fh, chunks);
    await fh.datasync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    if (newerWins) await refuseIfStale(dir, name);
    return await renameDurably(tmp, dir, name, dirname(tmpDir));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Tombstones, .meta files, async pendings and replicated files: temp file, fsync, rename,
 * directory fsync. A stream body is copied with back-pressure, never held whole in memory.
 * `sync = false` keeps the atomic rename but skips both fsyncs: the file then survives a
 * process crash (the page cache does) but not necessarily a power loss.
 */
export async function writeFileDurably(tmpDir: string, path: string, content: Readable | Buffer | string, sync = true): Promise<void> {
  if (sync && typeof content === 'string') content = Buffer.from(content);
  if (sync && Buffer.isBuffer(content)) {
    await writeSmallDurably(tmpDir, dirname(path), path.slice(dirname(path).length + 1), [content]);
    return;
  }
  const { fh, tmp } = await openTemp(tmpDir);
  try {
    if (typeof content === 'string' || Buffer.isBuffer(content)) await fh.writeFile(content);
    else for await (const chunk of content) await writeAll(fh, chunk as Buffer);
    if (sync) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  if (sync) {
    await renameDurably(tmp, dirname(path), path.slice(dirname(path).length + 1), dirname(tmpDir));
    return;
  }
  await mkdir(dirname(path), { recursive: true });
  await rename(tmp, path);
}

/** FileHandle.write may write less than asked; loops until the whole chunk is on its way to disk. */
export async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
}

/** writev until every byte of `chunks` is written (a short write resumes where it stopped). */
export async function writevAll(fh: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    let n = (await fh.writev(rest)).bytesWritten;
    while (rest.length > 0 && n >= rest[0]!.length) n -= rest.shift()!.length;
    if (n > 0) rest[0] = rest[0]!.subarray(n);
  }
}
