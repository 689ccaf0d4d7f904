import type { ListingQuery } from './types.js';

/**
 * Swift orders names by their UTF-8 bytes (SQLite BINARY collation). UTF-8 byte order equals
 * code point order, which differs from JS's UTF-16 code unit order for astral characters.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Row bounds for one page: name > gt (or >= gte), name < lt; any bound may be absent. */
export interface RowBounds {
  gt?: string;
  gte?: string;
  lt?: string;
}

/** Returns up to `limit` rows inside `bounds`, ascending (descending when `reverse`). */
export type FetchRows<T> = (bounds: RowBounds, reverse: boolean, limit: number) => T[];

function bump(s: string): string {
  return s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) + 1);
}

/**
 * Swift's container/account listing walk (prefix, delimiter → subdir roll-up, marker,
 * end_marker, reverse swaps the markers, limit counts subdirs too). Backends only supply a
 * bounded, ordered page fetch, so SQLite and the in-memory store share these semantics.
 */
export function runListing<T extends { name: string }>(q: ListingQuery, fetch: FetchRows<T>): Array<T | { subdir: string }> {
  const reverse = q.reverse === true;
  let marker = q.marker ?? '';
  let endMarker = q.endMarker ?? '';
  if (reverse) [marker, endMarker] = [endMarker, marker];
  const delimiter = q.delimiter ?? '';
  const prefix = q.prefix ?? '';
  const endPrefix = prefix ? bump(prefix) : '';
  const origMarker = marker;
  const limit = Math.max(0, q.limit);
  const results: Array<T | { subdir: string }> = [];
  let forceGte = false;
  while (results.length < limit) {
    const bounds: RowBounds = {};
    if (endMarker && (!prefix || compareNames(endMarker, endPrefix) < 0)) bounds.lt = endMarker;
    else if (prefix) bounds.lt = endPrefix;
    if (forceGte) {
      bounds.gte = marker;
      forceGte = false;
    } else if (marker && (!prefix || compareNames(marker, prefix) >= 0)) bounds.gt = marker;
    else if (prefix) bounds.gte = prefix;
    const want = limit - results.length;
    const rows = fetch(bounds, reverse, want);
    if (!delimiter) {
      results.push(...rows);
      return results;
    }
    if (rows.length === 0) break;
    let rolledUp = false;
    for (const row of rows) {
      const name = row.name;
      if (reverse) endMarker = name;
      else marker = name;
      const end = name.indexOf(delimiter, prefix.length);
      if (end >= 0) {
        const dir = name.slice(0, end + delimiter.length);
        if (reverse) endMarker = dir;
        else {
          // Continue right after every name that shares this subdir.
          marker = name.slice(0, end) + bump(delimiter);
          forceGte = true;
        }
        if (dir !== origMarker) results.push({ subdir: dir });
        rolledUp = true;
        break;
      }
      results.push(row);
      if (results.length >= limit) return results;
    }
    if (!rolledUp && rows.length < want) break;
  }
  return results;
}
