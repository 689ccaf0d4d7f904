import { badRequest } from '../errors.js';

export interface PageRequest {
  limit?: number;
  marker?: string;
}

/** Reads `limit`/`marker` the way every OpenStack API does; a bad limit is a 400. */
export function readPage(query: Record<string, unknown>): PageRequest {
  const page: PageRequest = {};
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`Invalid limit: ${String(query.limit)}`);
    page.limit = limit;
  }
  if (typeof query.marker === 'string' && query.marker !== '') page.marker = query.marker;
  return page;
}

/** Builds the absolute `next` link of a page, keeping the other query parameters. */
export function nextLink(selfUrl: string, lastId: string, limit: number): string {
  const url = new URL(selfUrl);
  url.searchParams.set('marker', lastId);
  url.searchParams.set('limit', String(limit));
  return url.toString();
}
