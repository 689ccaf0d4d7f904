import { badRequest, forbidden } from '../../common/errors.js';
import type { Caller } from './caller.js';
import { parseListQuery, type Query } from './list-params.js';
import type { Image } from './model/image.js';
import type { ImageService } from './service.js';

export type { Query } from './list-params.js';

export interface Page {
  images: Image[];
  /** The marker of the next page: set whenever the page is full, as Glance does. */
  next: string | null;
}

/**
 * GET /v2/images: Glance's visibility rules, filters, sorting and marker/limit paging, all in
 * one SQL query (store/list-query.ts), so a page costs the same with 50 or 50,000 images.
 */
export async function listImages(service: ImageService, caller: Caller, query: Query): Promise<Page> {
  const { marker, ...spec } = parseListQuery(query, service.config, { project: caller.project, isAdmin: caller.isAdmin });
  let after: Image | null = null;
  if (marker !== null) {
    after = await service.repo.find(marker);
    if (!after) throw badRequest(`No image found with ID ${marker}`);
    if (!(await service.visible(caller, after))) throw forbidden(`Forbidding request, image ${marker} not visible`);
  }
  const images = await service.repo.list({ ...spec, after });
  const next = images.length > 0 && images.length === spec.limit ? images[images.length - 1]!.id : null;
  return { images, next };
}

/**
 * Glance's `first` and `next` links: the request's own parameters without (then with the
 * next) marker. Repeated parameters (tag=a&tag=b) are all kept so that the next page has the
 * same filters.
 */
export function pageLinks(query: Query, next: string | null): { first: string; next?: string } {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'marker' || value === undefined) continue;
    for (const v of [value].flat()) params.append(key, v);
  }
  const first = params.size ? `/v2/images?${params.toString()}` : '/v2/images';
  if (next === null) return { first };
  params.append('marker', next);
  return { first, next: `/v2/images?${params.toString()}` };
}

/**
 * webob decodes the query string as UTF-8 and Glance answers 400 when it cannot; Fastify's
 * parser keeps such bytes as literal `%FF` text instead, so the raw query is checked here.
 */
export function assertDecodableQuery(url: string): void {
  const at = url.indexOf('?');
  if (at < 0) return;
  for (const part of url.slice(at + 1).split(/[&=]/)) {
    try {
      decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      throw badRequest('Error decoding your request. Either the URL or the request body contained characters that could not be decoded by Glance');
    }
  }
}
