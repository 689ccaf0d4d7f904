import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { writeStreamToFile } from './file-writer.js';
import { StoreObjectMissing, type ByteRange, type ImageStore } from './types.js';

const SAFE_KEY = /^[A-Za-z0-9._-]{1,200}$/;

/** Downloads read 1 MiB at a time: a sixteenth of the thread-pool round trips and stream hops of 64 KiB reads. */
export const READ_CHUNK = 1024 * 1024;

/**
 * glance_store's filesystem driver: one file per image under `root`. A put writes a temporary
 * file in `root/.tmp` (file-writer.ts: batched writev, fdatasync), renames it into place and
 * fsyncs the directory, so a crash leaves either the old object, the new one, or a temporary file
 * that cleanupPartial() removes.
 */
export class FilesystemImageStore implements ImageStore {
  readonly name = 'file';
  private readonly tmp: string;

  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.tmp = join(this.root, '.tmp');
  }

  private path(key: string): string {
    if (!SAFE_KEY.test(key) || key.startsWith('.')) throw new Error(`invalid store key ${JSON.stringify(key)}`);
    return join(this.root, key);
  }

  async put(key: string, data: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    const target = this.path(key);
    await mkdir(this.tmp, { recursive: true });
    const temp = join(this.tmp, `${key}.${randomUUID()}`);
    try {
      const fh = await open(temp, 'wx');
      let size: number;
      try {
        // Batched writev with background fdatasyncs; resolves once every byte is durable.
        size = await writeStreamToFile(data, fh.fd, signal ? { signal } : {});
      } finally {
        await fh.close();
      }
      await rename(temp, target);
      await syncDir(this.root);
      return { size };
    } catch (err) {
      if (!data.destroyed) data.destroy(err as Error);
      await rm(temp, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.path(key);
    // Open first so a missing object is a rejected promise, not a stream error after headers went out.
    const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new StoreObjectMissing(`no object ${key}`);
      throw err;
    });
    return fh.createReadStream({ autoClose: true, highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const st = await stat(this.path(key));
      return { size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async cleanupPartial(): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.tmp);
    } catch {
      return 0;
    }
    for (const name of entries) await rm(join(this.tmp, name), { force: true });
    return entries.length;
  }

  locationUrl(key: string): string {
    return `file://${this.path(key)}`;
  }

  keyOf(url: string): string | null {
    const prefix = `file://${this.root}/`;
    if (url.startsWith(prefix)) return SAFE_KEY.test(url.slice(prefix.length)) ? url.slice(prefix.length) : null;
    // Rows written before multi-store kept `file:<key>` (see migration 0002).
    const legacy = /^file:([A-Za-z0-9._-]{1,200})$/.exec(url);
    return legacy ? (legacy[1] ?? null) : null;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await fh.close();
  }
}
