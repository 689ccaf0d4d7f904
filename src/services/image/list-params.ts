import { badRequest } from '../../common/errors.js';
import { isoMicro } from '../../common/db/time.js';
import { SORT_KEYS, type Condition, type ListSpec, type NumberColumn, type SortKey, type SortTerm, type TextColumn } from './store/list-query.js';

export type Query = Record<string, string | string[] | undefined>;

/** Parameters that steer the list rather than filter it (Glance pops them before reading filters). */
const CONTROL = new Set(['limit', 'marker', 'member_status', 'sort', 'sort_key', 'sort_dir', 'tag']);
/** Columns Glance filters with `eq:` / `in:` operators. */
const OPERATOR_COLUMNS = new Set<TextColumn>(['id', 'name', 'status', 'container_format', 'disk_format']);
const TEXT_COLUMNS = new Set<TextColumn>(['owner', 'checksum', 'os_hash_algo', 'os_hash_value']);
/** Integer columns and the range of their SQL type (beyond it PostgreSQL refuses the parameter). */
const NUMBER_COLUMNS: Record<string, { column: NumberColumn; max: number }> = {
  size: { column: 'size', max: Number.MAX_SAFE_INTEGER },
  virtual_size: { column: 'virtual_size', max: Number.MAX_SAFE_INTEGER },
  min_disk: { column: 'min_disk', max: 2147483647 },
  min_ram: { column: 'min_ram', max: 2147483647 },
};
const TIME_OPS = new Set(['gt', 'gte', 'lt', 'lte', 'eq', 'neq']);

const firstOf = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
/** Filters read the query as a dict in Glance: the last of repeated values wins. */
const lastOf = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);
const allOf = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** What listing.ts needs besides the marker image, which it looks up. */
export type ParsedList = Omit<ListSpec, 'after'> & { marker: string | null };

export function parseListQuery(query: Query, limits: { limit_param_default: number; api_limit_max: number }, viewer: ListSpec['viewer']): ParsedList {
  const visibility = lastOf(query.visibility) || null;
  if (visibility !== null && !['community', 'public', 'private', 'shared', 'all'].includes(visibility)) throw badRequest(`Invalid visibility value: ${visibility}`);
  if (query['changes-since'] !== undefined) throw badRequest('The "changes-since" filter is no longer available on v2.');
  const memberStatus = firstOf(query.member_status) ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid status: ${memberStatus}`);
  const limit = parseLimit(firstOf(query.limit), limits);
  const sort = parseSort(query);
  const osHidden = (lastOf(query.os_hidden) ?? 'false').toLowerCase();
  if (osHidden !== 'true' && osHidden !== 'false') throw badRequest(`Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);

  const conditions: Condition[] = [];
  const properties: { key: string; value: string }[] = [];
  for (const [key, raw] of Object.entries(query)) {
    const value = lastOf(raw);
    if (value === undefined || CONTROL.has(key) || key === 'visibility' || key === 'os_hidden') continue;
    conditions.push(...filterConditions(key, value, properties));
  }
  return {
    viewer,
    visibility: visibility as ListSpec['visibility'],
    memberStatus: memberStatus as ListSpec['memberStatus'],
    osHidden: osHidden === 'true',
    conditions,
    tags: allOf(query.tag).map((t) => t.trim()),
    properties,
    sort,
    marker: firstOf(query.marker) ?? null,
    limit,
  };
}

function parseLimit(text: string | undefined, limits: { limit_param_default: number; api_limit_max: number }): number {
  if (text === undefined) return Math.min(limits.limit_param_default, limits.api_limit_max);
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw badRequest('limit param must be an integer');
  const limit = Number(text);
  if (limit < 0) throw badRequest('limit param must be positive');
  return Math.min(limit, limits.api_limit_max);
}

function sortKey(key: string): SortKey {
  if (!(SORT_KEYS as readonly string[]).includes(key)) throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  return key as SortKey;
}

function sortDir(dir: string): 'asc' | 'desc' {
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
  return dir;
}

/** `sort=k:dir,...` or repeated sort_key/sort_dir; then created_at and id make the order total, as Glance does. */
function parseSort(query: Query): SortTerm[] {
  const keys: SortKey[] = [];
  const dirs: ('asc' | 'desc')[] = [];
  const sort = firstOf(query.sort);
  if (sort !== undefined) {
    if (query.sort_key !== undefined || query.sort_dir !== undefined) throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of sort.trim().split(',')) {
      const at = part.indexOf(':');
      const key = at < 0 ? part : part.slice(0, at);
      const dir = at < 0 ? '' : part.slice(at + 1);
      keys.push(sortKey(key.trim()));
      dirs.push(sortDir(dir.trim() || 'desc'));
    }
  } else {
    for (const key of allOf(query.sort_key)) keys.push(sortKey(key.trim()));
    for (const dir of allOf(query.sort_dir)) dirs.push(sortDir(dir.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  if (!keys.length) keys.push('created_at');
  // One direction applies to every key, and to the tie-breakers Glance appends.
  const fallback = dirs.length === 1 ? dirs[0]! : 'desc';
  const terms: SortTerm[] = keys.map((key, i) => ({ key, dir: dirs.length === 1 ? fallback : (dirs[i] ?? fallback) }));
  for (const key of ['created_at', 'id'] as const) if (!keys.includes(key)) terms.push({ key, dir: fallback });
  return terms;
}

/** The conditions of one filter parameter, in Glance's order of interpretation (_make_conditions_from_filters). */
function filterConditions(key: string, value: string, properties: { key: string; value: string }[]): Condition[] {
  if (key === 'deleted') return []; // Glance overrides it: lists never show deleted images.
  if (key === 'deleted_at') return [{ op: 'never' }];
  if (key === 'protected') {
    if (value !== 'true' && value !== 'false') throw badRequest(`Invalid value '${value}' for 'protected' filter. Valid values are 'true' or 'false'.`);
    return [{ column: 'protected', op: '=', value: value === 'true' ? 1 : 0 }];
  }
  if (key.endsWith('_min') || key.endsWith('_max')) return [rangeCondition(key, value)];
  if (key === 'created_at' || key === 'updated_at') return timeConditions(key, value);
  if (OPERATOR_COLUMNS.has(key as TextColumn)) {
    const column = key as TextColumn;
    const [op, operand] = splitFilterOp(value);
    if (op === 'in') return [{ column, op: 'in', values: splitQuotedList(operand) }];
    if (op === 'eq') return [{ column, op: '=', value: operand }];
    throw badRequest(`Unable to filter by unknown operator '${op}'.`);
  }
  if (TEXT_COLUMNS.has(key as TextColumn)) return [{ column: key as TextColumn, op: '=', value }];
  const numeric = NUMBER_COLUMNS[key];
  if (numeric) {
    // A column compared with a non-number matches nothing (Glance's database would not cast it either).
    const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
    return Number.isSafeInteger(n) && Math.abs(n) <= numeric.max ? [{ column: numeric.column, op: '=', value: n }] : [{ op: 'never' }];
  }
  properties.push({ key, value });
  return [];
}

function rangeCondition(key: string, value: string): Condition {
  if (!/^\s*[+-]?\d+\s*$/.test(value)) throw badRequest('Unable to filter on a range with a non-numeric value.');
  const numeric = NUMBER_COLUMNS[key.slice(0, -4)];
  if (!numeric) throw badRequest(`Unable to filter on a range of '${key.slice(0, -4)}': it is not a numeric attribute.`);
  const n = Number(value);
  const atLeast = key.endsWith('_min');
  // Bounds past the column's range are clamped; a lower bound above every value matches nothing.
  if (atLeast && n > numeric.max) return { op: 'never' };
  if (!atLeast && n < -numeric.max) return { op: 'never' };
  const bound = Math.max(-numeric.max, Math.min(numeric.max, n));
  return { column: numeric.column, op: atLeast ? '>=' : '<=', value: bound };
}

/** Glance's split_filter_op: `op:value`, unless the whole expression is an ISO 8601 time (`eq`). */
function splitFilterOp(expression: string): [string, string] {
  const at = expression.indexOf(':');
  if (at < 0 || parseIsoTime(expression) !== null) return ['eq', expression];
  return [expression.slice(0, at), expression.slice(at + 1)];
}

/** `in:` values: comma separated, double quotes protect commas (api-wg's filtering guideline). */
export function splitQuotedList(value: string): string[] {
  let open = false;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"' || (i > 0 && value[i - 1] === '\\')) continue;
    if (!open && i > 0 && value[i - 1] !== ',') throw badRequest(`Invalid filter value ${value}. There is no comma before opening quotation mark.`);
    if (open && i + 1 !== value.length && value[i + 1] !== ',') throw badRequest(`Invalid filter value ${value}. There is no comma after closing quotation mark.`);
    open = !open;
  }
  if (open) throw badRequest(`Invalid filter value ${value}. The quote is not closed.`);
  const out: string[] = [];
  for (const m of value.matchAll(/"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g)) out.push(m[1] || m[2] || '');
  return out;
}

interface Instant {
  /** Whole seconds since the epoch (floor). */
  seconds: number;
  /** True when the time has no fraction of a second. */
  whole: boolean;
}

const ISO_TIME = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 as oslo's parse_isotime reads it; a time without a zone is UTC. */
export function parseIsoTime(text: string): Instant | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((p) => (p === undefined ? undefined : Number(p))) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(2000, month! - 1, day!, hour, minute, second));
  date.setUTCFullYear(year!);
  if (date.getUTCDate() !== day) return null;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * (zone[0] === '-' ? -1 : 1);
  }
  return { seconds: date.getTime() / 1000 - offsetMinutes * 60, whole: !/[1-9]/.test(m[7] ?? '') };
}

/** Stored timestamps are fixed-width ISO text; a bound past year 9999 sorts after all of them. */
const bound = (seconds: number): string => (seconds >= 253402300800 ? '9999-99' : isoMicro(new Date(seconds * 1000)));

/**
 * created_at/updated_at with gt/gte/lt/lte/eq/neq. Glance's timestamps have whole seconds,
 * so a stored time is compared by its second: each operator becomes a range on the text.
 */
function timeConditions(column: 'created_at' | 'updated_at', value: string): Condition[] {
  const [op, text] = splitFilterOp(value);
  const at = parseIsoTime(text);
  if (!at) throw badRequest(`Bad "${column}" query filter format. Use ISO 8601 DateTime notation.`);
  if (!TIME_OPS.has(op)) throw badRequest('Unable to filter on a unknown operator.');
  const floor = bound(at.seconds);
  const next = bound(at.seconds + 1);
  const ceil = at.whole ? floor : next;
  switch (op) {
    case 'gt': return [{ column, op: '>=', value: next }];
    case 'gte': return [{ column, op: '>=', value: ceil }];
    case 'lt': return [{ column, op: '<', value: ceil }];
    case 'lte': return [{ column, op: '<', value: next }];
    case 'eq': return at.whole ? [{ column, op: '>=', value: floor }, { column, op: '<', value: next }] : [{ op: 'never' }];
    default: return at.whole ? [{ column, op: 'outside', from: floor, to: next }] : [];
  }
}
