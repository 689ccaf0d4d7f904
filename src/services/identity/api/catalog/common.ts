import type { FastifyRequest } from 'fastify';
import { badRequest } from '../../../../common/errors.js';
import type { IdentityApi } from '../context.js';

/**
 * Small helpers shared by the catalog, credential, limit and misc routes:
 * Keystone's extra attributes, collection envelopes and list filters.
 */

/**
 * Attributes Keystone keeps in `extra`: everything the entity has no column for.
 * Keys are normalized as Keystone's _normalize_dict does ('-' and ':' become '_').
 */
export function extraOf(body: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const normalized = key.replaceAll(':', '_').replaceAll('-', '_');
    if (normalized === 'id' || normalized === 'links' || known.includes(normalized)) continue;
    extra[normalized] = value;
  }
  return extra;
}

/** An update body may repeat the entity's id but not change it. */
export function requireMatchingId(body: Record<string, unknown>, id: string): void {
  if (body.id !== undefined && body.id !== null && body.id !== id) throw badRequest('Cannot change ID');
}

/** The first value of each query parameter. */
export function queryOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

type Getter<T> = (item: T) => unknown;

/**
 * Keystone's list hints for the given attributes: exact `name=x`, and the
 * `name__contains`, `__startswith`, `__endswith` forms (with `i` for case-insensitive).
 */
export function applyFilters<T>(items: T[], query: Record<string, string>, fields: Record<string, Getter<T>>): T[] {
  const tests: ((item: T) => boolean)[] = [];
  for (const [param, raw] of Object.entries(query)) {
    const m = /^(.*?)(?:__(i?)(contains|startswith|endswith))?$/.exec(param);
    const get = m ? fields[m[1] ?? ''] : undefined;
    if (!m || !get) continue;
    const insensitive = m[2] === 'i';
    const op = m[3];
    const norm = (s: string) => (insensitive ? s.toLowerCase() : s);
    const want = norm(raw);
    tests.push((item) => {
      const value = get(item);
      if (op === undefined) return value === raw || (typeof value === 'boolean' && String(value) === raw.toLowerCase());
      if (typeof value !== 'string') return false;
      const have = norm(value);
      return op === 'contains' ? have.includes(want) : op === 'startswith' ? have.startsWith(want) : have.endsWith(want);
    });
  }
  return tests.length ? items.filter((item) => tests.every((t) => t(item))) : items;
}

/** {"<key>": [...], "links": {...}} with `truncated` when [identity] list_limit cut the list. */
export function collection(api: IdentityApi, request: FastifyRequest, key: string, path: string, items: Record<string, unknown>[]): Record<string, unknown> {
  const limit = api.config.identity.list_limit;
  const truncated = typeof limit === 'number' && items.length > limit;
  const body: Record<string, unknown> = {
    [key]: truncated ? items.slice(0, limit) : items,
    links: { self: `${api.v3Url(request)}${path}`, previous: null, next: null },
  };
  if (truncated) body.truncated = true;
  return body;
}

/** Reads a body's member object; Keystone treats a missing one as an empty object. */
export function memberOf(body: unknown, key: string): Record<string, unknown> {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The route's path parameters, typed. */
export function paramsOf(request: FastifyRequest): Record<string, string> {
  return request.params as Record<string, string>;
}
