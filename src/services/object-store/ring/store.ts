import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ring } from './ring.js';
import type { HashPathConfig, RingFile, RingKind } from './types.js';

/** <data_dir>/object-store: rings/, devices/, hash_path.json. */
export function objectStoreRoot(dataDir: string): string {
  return join(dataDir, 'object-store');
}

export function ringPath(root: string, kind: RingKind): string {
  return join(root, 'rings', `${kind}.ring.json`);
}

/** Writes a file so that a crash leaves either the old or the new content, never a mix. */
export function writeFileAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function loadRingFile(root: string, kind: RingKind): RingFile | null {
  const path = ringPath(root, kind);
  if (!existsSync(path)) return null;
  const data = JSON.parse(readFileSync(path, 'utf8')) as RingFile;
  if (data.format !== 1 || data.kind !== kind) throw new Error(`${path}: not a ${kind} ring`);
  return data;
}

export function saveRingFile(root: string, data: RingFile): void {
  writeFileAtomic(ringPath(root, data.kind), `${JSON.stringify(data)}\n`);
}

/**
 * The hash path salt is generated once per cluster and must never change afterwards: every
 * object's location depends on it (Swift keeps it in swift.conf for the same reason).
 */
export function loadOrCreateHashPath(root: string): HashPathConfig {
  const path = join(root, 'hash_path.json');
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as HashPathConfig;
  const hp: HashPathConfig = { prefix: '', suffix: randomBytes(16).toString('hex') };
  writeFileAtomic(path, `${JSON.stringify(hp)}\n`);
  return hp;
}

export function loadRing(root: string, kind: RingKind): Ring | null {
  const data = loadRingFile(root, kind);
  if (!data || data.replica2part2dev.length === 0) return null;
  return new Ring(data, loadOrCreateHashPath(root));
}
