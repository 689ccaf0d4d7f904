import type { FastifyRequest } from 'fastify';
import type { ProjectFilters } from '../../managers/resource.js';

type Query = Record<string, unknown>;

export const queryOf = (request: FastifyRequest): Query => (request.query ?? {}) as Query;

/** One query value (the first when repeated), or undefined when absent. */
export function queryValue(query: Query, key: string): string | undefined {
  const value = query[key];
  if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
  return value === undefined ? undefined : String(value);
}

/** oslo's bool_from_string(default=True), which Keystone applies to boolean filters. */
export function boolFilter(value: string): boolean {
  return !['f', 'false', 'n', 'no', 'off', '0'].includes(value.trim().toLowerCase());
}

/** Keystone's query_filter_is_true: present and not '0'. */
export function flagSet(query: Query, key: string): boolean {
  const value = queryValue(query, key);
  return value !== undefined && value !== '0';
}

const INEXACT: Record<string, { op: 'contains' | 'startswith' | 'endswith'; caseSensitive: boolean }> = {
  contains: { op: 'contains', caseSensitive: true },
  icontains: { op: 'contains', caseSensitive: false },
  startswith: { op: 'startswith', caseSensitive: true },
  istartswith: { op: 'startswith', caseSensitive: false },
  endswith: { op: 'endswith', caseSensitive: true },
  iendswith: { op: 'endswith', caseSensitive: false },
};

/** name, name__contains & co. and enabled: the filters domains and projects share. */
export function commonFilters(query: Query): ProjectFilters {
  const filters: ProjectFilters = {};
  const name = queryValue(query, 'name');
  if (name !== undefined) filters.name = name;
  const enabled = queryValue(query, 'enabled');
  if (enabled !== undefined) filters.enabled = boolFilter(enabled);
  for (const [suffix, how] of Object.entries(INEXACT)) {
    const value = queryValue(query, `name__${suffix}`);
    if (value !== undefined) (filters.nameMatches ??= []).push({ ...how, value });
  }
  return filters;
}

/** Splits a comma-separated tag filter; empty entries are ignored. */
export function tagList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').filter((t) => t !== '');
}

/** Applies the configured list_limit: Keystone cuts the list and says so with `truncated`. */
export function truncate<T>(items: T[], limit: number | null | undefined): { items: T[]; truncated: boolean } {
  if (!limit || items.length <= limit) return { items, truncated: false };
  return { items: items.slice(0, limit), truncated: true };
}

/** Top-level keys of a body that aren't core attributes: Keystone stores them as `extra`. */
export function extrasOf(body: Record<string, unknown>, core: readonly string[], normalize: boolean): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (core.includes(key)) continue;
    // Keystone's create path rewrites ':' and '-' in attribute names to '_'.
    out[normalize ? key.replace(/[:-]/g, '_') : key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}
