import type { FastifyRequest } from 'fastify';
import { badRequest, CloudError } from '../../../../common/errors.js';
import type { ExpiryOperator } from '../../managers/users.js';
import type { IdentityApi } from '../context.js';

/** Every value of a query parameter (repeated keys arrive as arrays). */
export function queryValues(request: FastifyRequest, name: string): string[] {
  const raw = (request.query as Record<string, unknown> | undefined)?.[name];
  const values = Array.isArray(raw) ? raw : [raw];
  return values.filter((v): v is string => typeof v === 'string');
}

export function queryValue(request: FastifyRequest, name: string): string | undefined {
  return queryValues(request, name)[0];
}

/** oslo strutils: these spell false, anything else (even empty) is true. */
export function attrAsBoolean(value: string): boolean {
  return !['0', 'f', 'false', 'off', 'n', 'no'].includes(value.trim().toLowerCase());
}

export interface InexactFilter {
  key: string;
  op: 'contains' | 'startswith' | 'endswith' | 'equals';
  value: string;
  caseSensitive: boolean;
}

/** Keystone's `<attr>__[i](contains|startswith|endswith|equals)=x` filters for the listed attributes. */
export function inexactFilters(request: FastifyRequest, keys: string[]): InexactFilter[] {
  const out: InexactFilter[] = [];
  for (const [param, raw] of Object.entries((request.query as Record<string, unknown> | undefined) ?? {})) {
    const match = /^(\w+?)__(i?)(contains|startswith|endswith|equals)$/.exec(param);
    if (!match || !keys.includes(match[1] as string)) continue;
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (typeof value === 'string') out.push({ key: match[1] as string, op: match[3] as InexactFilter['op'], value, caseSensitive: match[2] === '' });
    }
  }
  return out;
}

export function matchesInexact(entity: Record<string, unknown>, filters: InexactFilter[]): boolean {
  return filters.every((f) => {
    const attr = entity[f.key];
    if (typeof attr !== 'string') return false;
    const target = f.caseSensitive ? attr : attr.toLowerCase();
    const value = f.caseSensitive ? f.value : f.value.toLowerCase();
    switch (f.op) {
      case 'contains': return target.includes(value);
      case 'startswith': return target.startsWith(value);
      case 'endswith': return target.endsWith(value);
      case 'equals': return target === value;
    }
  });
}

const OPERATORS = new Set<ExpiryOperator>(['lt', 'lte', 'gt', 'gte', 'eq', 'neq']);
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** password_expires_at=[op:]timestamp, as Keystone's _translate_expired_password_hints reads it. */
export function passwordExpiryFilters(request: FastifyRequest): { op: ExpiryOperator; at: Date }[] {
  return queryValues(request, 'password_expires_at').map((value) => {
    let op = 'eq';
    let stamp = value;
    if (value.slice(2, 4).includes(':')) {
      const at = value.indexOf(':');
      op = value.slice(0, at);
      stamp = value.slice(at + 1);
    }
    const match = ISO.exec(stamp.trim());
    let at = new Date(Number.NaN);
    if (match) {
      const zone = match[3] ? (match[3].toUpperCase() === 'Z' ? 'Z' : match[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
      at = new Date(`${match[1]}T${match[2] ?? '00:00:00'}${zone}`);
    }
    if (Number.isNaN(at.getTime())) {
      throw badRequest('Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    }
    if (!OPERATORS.has(op as ExpiryOperator)) {
      throw new CloudError('bad_request', `The given operator ${op} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.`);
    }
    return { op: op as ExpiryOperator, at };
  });
}

/** Keystone's wrap_collection: entities, links (self echoes the query) and `truncated` past [identity] list_limit. */
export function collection(api: IdentityApi, request: FastifyRequest, key: string, path: string, items: Record<string, unknown>[]): Record<string, unknown> {
  const limit = api.config.identity.list_limit;
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const out: Record<string, unknown> = {
    [key]: limit && items.length > limit ? items.slice(0, limit) : items,
    links: { self: `${api.v3Url(request)}${path}${query}`, previous: null, next: null },
  };
  if (limit && items.length > limit) out.truncated = true;
  return out;
}
