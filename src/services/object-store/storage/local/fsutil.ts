import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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

/** Small files (tombstones, .meta, async pendings): temp file, fsync, rename, dir fsync. */
export async function writeSmallFileDurably(tmpDir: string, path: string, content: Buffer | string): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const tmp = tmpName(tmpDir);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await mkdir(dirname(path), { recursive: true });
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}
