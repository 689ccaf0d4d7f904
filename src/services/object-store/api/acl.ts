import { swiftError } from './faults.js';

/**
 * Swift's container ACLs (X-Container-Read / X-Container-Write, "v1" syntax) and account ACLs
 * (X-Account-Access-Control, JSON "v2" syntax), following swift/common/middleware/acl.py.
 */

/** Normalizes an ACL header value; 400 with Swift's message when it is malformed. */
export function cleanAcl(headerName: string, value: string): string {
  const values: string[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const colon = item.indexOf(':');
    if (colon < 0) {
      values.push(item);
      continue;
    }
    const first = item.slice(0, colon).trim();
    let second = item.slice(colon + 1).trim();
    if (!first || !first.startsWith('.')) {
      values.push(item);
    } else if (['.r', '.ref', '.referer', '.referrer'].includes(first)) {
      if (headerName.toLowerCase().includes('write')) throw swiftError(400, `Referrers not allowed in write ACL: '${item}'`);
      let negate = false;
      if (second.startsWith('-')) {
        negate = true;
        second = second.slice(1).trim();
      }
      if (second && second !== '*' && second.startsWith('*')) second = second.slice(1).trim();
      if (!second || second === '.') throw swiftError(400, `No host/domain value after referrer designation in ACL: '${item}'`);
      values.push(`.r:${negate ? '-' : ''}${second}`);
    } else {
      throw swiftError(400, `Unknown designator '${first}' in ACL: '${item}'`);
    }
  }
  return values.join(',');
}

export interface ParsedAcl {
  referrers: string[];
  groups: string[];
}

export function parseAcl(acl: string | undefined): ParsedAcl {
  const referrers: string[] = [];
  const groups: string[] = [];
  for (const value of (acl ?? '').split(',')) {
    if (!value) continue;
    if (value.startsWith('.r:')) referrers.push(value.slice(3));
    else {
      try {
        groups.push(decodeURIComponent(value));
      } catch {
        groups.push(value);
      }
    }
  }
  return { referrers, groups };
}

/** Referrer designations apply in order; '-host' denies, '.domain' matches suffixes. */
export function referrerAllowed(referer: string | undefined, referrers: string[]): boolean {
  let allow = false;
  let host = 'unknown';
  if (referer) {
    try {
      host = new URL(referer).hostname || 'unknown';
    } catch {
      host = 'unknown';
    }
  }
  for (const entry of referrers) {
    if (entry.startsWith('-')) {
      const m = entry.slice(1);
      if (m === host || (m.startsWith('.') && host.endsWith(m))) allow = false;
    } else if (entry === '*' || entry === host || (entry.startsWith('.') && host.endsWith(entry))) {
      allow = true;
    }
  }
  return allow;
}

export type AccountAccess = 'admin' | 'read-write' | 'read-only';
const ACCOUNT_LEVELS: readonly AccountAccess[] = ['admin', 'read-write', 'read-only'];

/** Validates X-Account-Access-Control: a JSON object of level → list of strings; 400 otherwise. */
export function cleanAccountAcl(value: string): string {
  if (value.trim() === '') return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw swiftError(400, 'Syntax error in input (invalid JSON)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw swiftError(400, 'Syntax error in input (not a JSON object)');
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!ACCOUNT_LEVELS.includes(k as AccountAccess)) throw swiftError(400, `Key '${k}' not recognized`);
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) throw swiftError(400, `Value for key '${k}' must be a list`);
    if (v.length) out[k] = v as string[];
  }
  return Object.keys(out).length ? JSON.stringify(out) : '';
}

/** The strongest account-ACL level any of the caller's identities holds. */
export function accountAccess(acl: string | undefined, identities: string[]): AccountAccess | null {
  if (!acl) return null;
  let parsed: Record<string, string[]>;
  try {
    parsed = JSON.parse(acl) as Record<string, string[]>;
  } catch {
    return null;
  }
  for (const level of ACCOUNT_LEVELS) {
    if ((parsed[level] ?? []).some((entry) => identities.includes(entry))) return level;
  }
  return null;
}
