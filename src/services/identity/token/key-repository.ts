/**
 * A Fernet key repository laid out like Keystone's (`keystone-manage
 * fernet_setup` / `fernet_rotate`), so operators' tooling and habits carry
 * over and a repository can be shared with, or migrated from, a Keystone:
 *
 *   <dir>/0      the staged key: the next primary, already accepted for
 *                validation so nodes that receive it before the rotation can
 *                validate tokens of nodes that rotate first
 *   <dir>/1..N   the primary (highest number) and older, still-accepted keys
 *
 * Each file holds one key: 32 bytes in url-safe base64 (44 characters).
 * Files are 0600 in a 0700 directory and always replaced by rename, so a
 * reader (or a crash) never sees half a key.
 *
 * Like keystone-manage, setup/rotate assume a single writer at a time; run
 * them from one place (`nubes manage`, or the one process that owns the data
 * directory). Readers in other processes pick changes up via loadIfChanged.
 */

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { generateFernetKey, parseFernetKey, type FernetKey, type FernetKeys } from './fernet.js';

export class KeyRepositoryError extends Error {
  override readonly name = 'KeyRepositoryError';
}

const KEY_FILE = /^(0|[1-9][0-9]{0,8})$/;
// Temp files start with a dot and are never valid key names, so a crash
// mid-write leaves nothing that load() would pick up.
const TEMP_PREFIX = '.tmp-';

interface Cache {
  readonly keys: FernetKeys;
  readonly signature: string;
  checkedAt: number;
}

export class FernetKeyRepository {
  private cache: Cache | undefined;

  constructor(
    readonly dir: string,
    readonly maxActiveKeys = 3,
  ) {
    // Keystone accepts 1 and then deletes the new primary on rotation; a
    // repository needs at least a primary and a staged key to mean anything.
    if (!Number.isSafeInteger(maxActiveKeys) || maxActiveKeys < 2) {
      throw new RangeError('maxActiveKeys must be an integer >= 2 (a primary and a staged key)');
    }
  }

  /**
   * Creates the directory (0700) and keys 0 and 1 when there are none.
   * Idempotent, and repairs what an interrupted setup or rotate can leave
   * behind: a repository with no staged key, or with only a staged key.
   */
  setup(): void {
    const created = mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; an existing directory is the
    // operator's and is left as it is.
    if (created !== undefined) chmodSync(this.dir, 0o700);
    this.removeTempFiles();

    let indices = this.indices();
    if (!indices.includes(0)) {
      writeFileAtomic(this.dir, '0', generateFernetKey());
      indices = this.indices();
    }
    if (indices.length === 1) this.rotate();
    else this.load();
  }

  /**
   * Promotes the staged key 0 to primary N+1, stages a fresh key 0, and
   * deletes the oldest primaries so that at most maxActiveKeys files remain
   * (the staged key counts). Returns the new primary's number.
   * With the default of 3: {0,1} -> {0,1,2} -> {0,2,3} -> {0,3,4}.
   */
  rotate(): number {
    const indices = this.indices();
    if (indices.length === 0) throw new KeyRepositoryError(`no Fernet keys in ${this.dir}; run setup first`);
    this.removeTempFiles();
    // A rotation interrupted between its two renames leaves no key 0;
    // stage one now so the rotation below has something to promote.
    if (!indices.includes(0)) writeFileAtomic(this.dir, '0', generateFernetKey());

    const newPrimary = Math.max(...indices) + 1;
    // Write the next staged key before touching the current one, so that at
    // every instant each existing file is a complete key.
    const staged = writeTempFile(this.dir, generateFernetKey());
    renameSync(join(this.dir, '0'), join(this.dir, String(newPrimary)));
    renameSync(staged, join(this.dir, '0'));
    fsyncDir(this.dir);

    const primaries = this.indices().filter((i) => i !== 0); // ascending
    const excess = primaries.length - (this.maxActiveKeys - 1);
    for (const index of primaries.slice(0, Math.max(0, excess))) unlinkSync(join(this.dir, String(index)));
    if (excess > 0) fsyncDir(this.dir);

    this.load();
    return newPrimary;
  }

  /** Reads every key from disk: primary (highest number) first, staged key 0 last. */
  load(): FernetKeys {
    // A rotation in another process can delete a file between listing and
    // reading it; listing again resolves that.
    for (let attempt = 1; ; attempt++) {
      try {
        return this.readAll();
      } catch (err) {
        if (attempt >= 3 || !isNotFound(err)) throw err;
      }
    }
  }

  /**
   * The keys, re-read only when the directory's key files changed (by name,
   * inode or mtime), which costs one readdir and a stat per key. With
   * maxAgeMs > 0, even that check is skipped for results younger than that,
   * which is what a hot validation path wants; rotations made through this
   * object are seen at once either way.
   */
  loadIfChanged(maxAgeMs = 0): FernetKeys {
    const now = performance.now();
    if (this.cache !== undefined && now - this.cache.checkedAt < maxAgeMs) return this.cache.keys;
    if (this.cache !== undefined && this.unchangedSince(this.cache)) {
      this.cache.checkedAt = now;
      return this.cache.keys;
    }
    return this.load();
  }

  /** Key numbers present on disk, ascending (0 is the staged key). */
  indices(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    return names
      .filter((n) => KEY_FILE.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  private readAll(): FernetKeys {
    const indices = this.indices();
    const signature = this.signature(indices);
    const keys: FernetKey[] = indices.reverse().map((index) => {
      const text = readFileSync(join(this.dir, String(index)), 'utf8').trim();
      try {
        return parseFernetKey(text);
      } catch (err) {
        throw new KeyRepositoryError(`Fernet key file ${join(this.dir, String(index))} is corrupt`, { cause: err });
      }
    });
    const [primary, ...others] = keys;
    if (primary === undefined) throw new KeyRepositoryError(`no Fernet keys in ${this.dir}; run setup first`);
    const loaded: FernetKeys = [primary, ...others];
    this.cache = { keys: loaded, signature, checkedAt: performance.now() };
    return loaded;
  }

  private unchangedSince(cache: Cache): boolean {
    try {
      return this.signature(this.indices()) === cache.signature;
    } catch (err) {
      // A file vanished mid-check: something changed, so reload.
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  // Files are only ever replaced by rename, which changes the inode, and
  // rotations change the set of names; (name, inode, mtime) catches both and
  // also an operator editing a key in place.
  private signature(indices: readonly number[]): string {
    return indices
      .map((index) => {
        const st = statSync(join(this.dir, String(index)), { bigint: true });
        return `${index}:${st.ino}:${st.mtimeNs}:${st.size}`;
      })
      .join(',');
  }

  private removeTempFiles(): void {
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) unlinkSync(join(this.dir, name));
    }
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}

/** Writes a complete, fsynced 0600 file under a temporary name and returns its path. */
function writeTempFile(dir: string, contents: string): string {
  const path = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  // 'wx': never follow or reuse an existing file; the mode is set again
  // after open because open's mode is filtered by the umask.
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, contents);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(path);
    throw err;
  }
  closeSync(fd);
  return path;
}

function writeFileAtomic(dir: string, name: string, contents: string): void {
  renameSync(writeTempFile(dir, contents), join(dir, name));
  fsyncDir(dir);
}

/** Makes renames and unlinks in `dir` durable. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
