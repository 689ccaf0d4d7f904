import type { IncomingHttpHeaders } from 'node:http';
import { cleanAccountAcl, cleanAcl } from './acl.js';
import { swiftError } from './faults.js';

export type MetaKind = 'account' | 'container' | 'object';

export interface MetaLimits {
  max_meta_name_length: number;
  max_meta_value_length: number;
  max_meta_count: number;
  max_meta_overall_size: number;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** constraints.check_metadata: empty/long names, long values, too many, too large in total → 400. */
export function checkMetadata(headers: IncomingHttpHeaders, kind: MetaKind, limits: MetaLimits): void {
  const prefix = `x-${kind}-meta-`;
  let count = 0;
  let size = 0;
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    const key = name.slice(prefix.length);
    if (!key) throw swiftError(400, 'Metadata name cannot be empty');
    // the quota and temp-url keys are sysmeta-like settings, not user metadata
    const counted = !(kind !== 'object' && /^(quota-|temp-url-key)/.test(key));
    if (Buffer.byteLength(key) > limits.max_meta_name_length) {
      throw swiftError(400, `Metadata name too long: ${prefix}${key}`);
    }
    if (Buffer.byteLength(value) > limits.max_meta_value_length) {
      throw swiftError(400, `Metadata value longer than ${limits.max_meta_value_length}: ${prefix}${key}`);
    }
    if (!counted) continue;
    count += 1;
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
    if (count > limits.max_meta_count) throw swiftError(400, `Too many metadata items; max ${limits.max_meta_count}`);
    if (size > limits.max_meta_overall_size) throw swiftError(400, `Total metadata too large; max ${limits.max_meta_overall_size}`);
  }
}

/** Container settings carried outside X-Container-Meta-*: header name → stored key. */
const CONTAINER_SETTINGS: Record<string, string> = {
  'x-container-read': 'read',
  'x-container-write': 'write',
  'x-versions-location': 'versions-location',
  'x-history-location': 'history-location',
  'x-container-sync-to': 'sync-to',
  'x-container-sync-key': 'sync-key',
};

/**
 * The MetadataUpdate.set of an account/container POST or PUT: X-<kind>-Meta-* set, empty or
 * X-Remove-<kind>-Meta-* removes; container ACLs and versioning headers; the account ACL.
 * Settings only the owner may change are dropped for others, as Swift's proxy strips them.
 */
export function metadataUpdate(headers: IncomingHttpHeaders, kind: 'account' | 'container', owner: boolean): Record<string, string> {
  const set: Record<string, string> = {};
  const prefix = `x-${kind}-meta-`;
  const removePrefix = `x-remove-${kind}-meta-`;
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (name.startsWith(prefix)) set[`meta-${name.slice(prefix.length)}`] = value.trim();
    else if (name.startsWith(removePrefix)) set[`meta-${name.slice(removePrefix.length)}`] = '';
  }
  if (kind === 'container') {
    for (const [header, key] of Object.entries(CONTAINER_SETTINGS)) {
      if (!owner && (key === 'read' || key === 'write' || key.startsWith('sync'))) continue;
      const value = headerValue(headers, header);
      if (value !== undefined) set[key] = key === 'read' || key === 'write' ? cleanAcl(header, value) : value.trim();
      const removal = header.replace(/^x-/, 'x-remove-');
      if (headerValue(headers, removal) !== undefined) set[key] = '';
    }
  } else if (owner) {
    const acl = headerValue(headers, 'x-account-access-control');
    if (acl !== undefined) set['access-control'] = cleanAccountAcl(acl);
  }
  return set;
}

/** Response headers for stored account/container metadata; ACLs and keys only for owners. */
export function metadataHeaders(metadata: Record<string, string>, kind: 'account' | 'container', owner: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === '') continue;
    if (key.startsWith('meta-')) {
      const name = key.slice(5);
      if (!owner && /^temp-url-key/.test(name)) continue;
      out[`x-${kind}-meta-${name}`] = value;
    } else if (kind === 'container') {
      const header = Object.entries(CONTAINER_SETTINGS).find(([, k]) => k === key)?.[0];
      if (!header) continue;
      if (!owner && (key === 'read' || key === 'write' || key.startsWith('sync'))) continue;
      out[header] = value;
    } else if (key === 'access-control' && owner) {
      out['x-account-access-control'] = value;
    }
  }
  return out;
}

/** Object headers a client may set and Swift stores with the object. */
export function objectUserHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (name.startsWith('x-object-meta-') && name.length > 'x-object-meta-'.length) out[name] = value.trim();
    else if (['content-encoding', 'content-disposition', 'content-language', 'x-object-manifest', 'x-delete-at', 'cache-control', 'expires', 'x-robots-tag'].includes(name)) out[name] = value.trim();
  }
  return out;
}

/**
 * Swift keeps object metadata with empty values (X-Object-Meta-Flag: ""), but the cluster drops
 * empty header values; the names of such items are stored together in this one header instead.
 */
const EMPTY_META = 'x-nubes-empty-object-meta';

/** Moves empty X-Object-Meta-* values into EMPTY_META before a write (merging names already there). */
export function packEmptyMeta(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const empty = new Set((headers[EMPTY_META] ?? '').split(',').filter(Boolean));
  for (const [k, v] of Object.entries(headers)) {
    if (k === EMPTY_META) continue;
    if (k.startsWith('x-object-meta-') && v === '') empty.add(k);
    else {
      out[k] = v;
      empty.delete(k);
    }
  }
  if (empty.size) out[EMPTY_META] = [...empty].join(',');
  return out;
}

/** The stored headers as the client sees them: empty metadata items restored. */
export function unpackEmptyMeta(headers: Record<string, string>): Record<string, string> {
  const list = headers[EMPTY_META];
  if (list === undefined) return headers;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (k !== EMPTY_META) out[k] = v;
  for (const name of list.split(',')) if (name) out[name] = '';
  return out;
}
