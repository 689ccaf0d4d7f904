import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

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

/**
 * Tombstones, .meta files, async pendings and replicated files: temp file, fsync, rename,
 * directory fsync. A stream body is copied with back-pressure, never held whole in memory.
 * `sync = false` keeps the atomic rename but skips both fsyncs: the file then survives a
 * process crash (the page cache does) but not necessarily a power loss.
 */
export async function writeFileDurably(tmpDir: string, path: string, content: Readable | Buffer | string, sync = true): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const tmp = tmpName(tmpDir);
  const fh = await open(tmp, 'w');
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
  await mkdir(dirname(path), { recursive: true });
  await rename(tmp, path);
  if (sync) await fsyncDir(dirname(path));
}

/** FileHandle.write may write less than asked; loops until the whole chunk is on its way to disk. */
export async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
}
