import type { ObjectInfo } from './types.js';

/**
 * Object semantics shared by every StorageCluster implementation, so MemoryCluster and the
 * on-disk cluster cannot drift apart.
 */

/** Headers a POST (fast-post) keeps from the data file: they describe the data, not the user. */
export function isDataBoundHeader(key: string): boolean {
  return key === 'x-static-large-object' || key.startsWith('x-object-sysmeta-') || key.startsWith('x-symlink-target');
}

/** POST replaces every user-settable header; data-bound ones survive. */
export function mergePostHeaders(old: Record<string, string>, update: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(old)) if (isDataBoundHeader(k)) out[k] = v;
  for (const [k, v] of Object.entries(update)) {
    const key = k.toLowerCase();
    if (isDataBoundHeader(key)) continue;
    if (v !== '') out[key] = v;
  }
  return out;
}

export function cleanHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== '') out[k.toLowerCase()] = v;
  return out;
}

/** X-Delete-At in the past: the object server answers 404 even before the expirer removes it. */
export function isExpired(headers: Record<string, string>, now: Date): boolean {
  const at = headers['x-delete-at'];
  if (at === undefined) return false;
  const n = Number(at);
  return Number.isFinite(n) && n * 1000 <= now.getTime();
}

/** Listing's symlink_path: "/v1/<account>/<container>/<object>" of the target. */
export function symlinkPath(account: string, headers: Record<string, string>): string | undefined {
  const target = headers['x-symlink-target'];
  if (target === undefined) return undefined;
  return `/v1/${headers['x-symlink-target-account'] ?? account}/${target}`;
}

/** Metadata merge for accounts/containers: '' removes a key. */
export function mergeMetadata(current: Record<string, string>, set: Record<string, string>): Record<string, string> {
  const out = { ...current };
  for (const [k, v] of Object.entries(set)) {
    const key = k.toLowerCase();
    if (key === STORAGE_POLICY_KEY) continue;
    if (v === '') delete out[key];
    else out[key] = v;
  }
  return out;
}

/** meta.set key choosing a new container's policy (X-Storage-Policy); never stored as metadata. */
export const STORAGE_POLICY_KEY = 'storage-policy';
export const DEFAULT_POLICY = 'Policy-0';

export function cloneInfo(info: ObjectInfo): ObjectInfo {
  return { ...info, lastModified: new Date(info.lastModified.getTime()), headers: { ...info.headers } };
}
