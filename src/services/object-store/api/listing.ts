import type { ContainerListing, ListingQuery, ObjectListing } from '../storage/types.js';
import { header, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';

export type ListingFormat = 'json' | 'xml' | 'plain';

const FORMAT_TYPES: [string, ListingFormat][] = [
  ['text/plain', 'plain'],
  ['application/json', 'json'],
  ['application/xml', 'xml'],
  ['text/xml', 'xml'],
];

/** listing_formats.get_listing_content_type: ?format= wins, then Accept (406 if nothing fits). */
export function listingFormat(s: SwiftRequest): { format: ListingFormat; contentType: string } {
  const param = s.query.get('format')?.toLowerCase();
  if (param === 'json') return { format: 'json', contentType: 'application/json; charset=utf-8' };
  if (param === 'xml') return { format: 'xml', contentType: 'application/xml; charset=utf-8' };
  if (param !== undefined && param !== null && param !== '') return { format: 'plain', contentType: 'text/plain; charset=utf-8' };
  const accept = header(s, 'accept');
  if (!accept) return { format: 'plain', contentType: 'text/plain; charset=utf-8' };
  const ranges = accept
    .split(',')
    .map((part, i) => {
      const [type = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((r) => r.type && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    const [major, minor] = r.type.split('/');
    const hit = FORMAT_TYPES.find(([t]) => {
      const [tm, tn] = t.split('/');
      return (major === '*' || major === tm) && (minor === '*' || minor === tn);
    });
    if (hit) return { format: hit[1], contentType: `${hit[0]}; charset=utf-8` };
  }
  throw swiftError(406);
}

/** Query parameters of a listing, validated like Swift's account/container servers. */
export function listingQuery(s: SwiftRequest, maxLimit: number): ListingQuery & { path?: string } {
  const q = s.query;
  let limit = maxLimit;
  const given = q.get('limit');
  if (given && /^\d+$/.test(given)) {
    limit = Number(given);
    if (limit > maxLimit) throw swiftError(412, `Maximum limit is ${maxLimit}`);
  }
  for (const [k, v] of q) if (v.includes('\u0000') || k.includes('\u0000')) throw swiftError(412, 'Invalid UTF8 or contains NULL');
  const delimiter = q.get('delimiter') ?? undefined;
  if (delimiter && (delimiter.length > 1 || delimiter.charCodeAt(0) > 254)) throw swiftError(412, 'Bad delimiter');
  const path = q.get('path') ?? undefined;
  const query: ListingQuery & { path?: string } = { limit };
  const prefix = q.get('prefix');
  if (prefix) query.prefix = prefix;
  if (delimiter) query.delimiter = delimiter;
  const marker = q.get('marker');
  if (marker) query.marker = marker;
  const endMarker = q.get('end_marker');
  if (endMarker) query.endMarker = endMarker;
  if (['true', '1', 'yes', 'on', 't', 'y'].includes((q.get('reverse') ?? '').toLowerCase())) query.reverse = true;
  if (path !== undefined) {
    // ?path=p is prefix "p/" with "/" as delimiter, reporting only direct children (no subdirs)
    query.path = path;
    query.prefix = path === '' ? undefined : path.endsWith('/') ? path : `${path}/`;
    query.delimiter = '/';
    if (query.prefix === undefined) delete query.prefix;
  }
  return query;
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderAccountListing(format: ListingFormat, account: string, items: ContainerListing[]): string {
  if (format === 'json') {
    return JSON.stringify(items.map((i) => ('subdir' in i ? { subdir: i.subdir } : { name: i.name, count: i.count, bytes: i.bytes, last_modified: i.lastModified })));
  }
  if (format === 'xml') {
    const rows = items.map((i) =>
      'subdir' in i
        ? `<subdir name="${xmlEscape(i.subdir)}" />`
        : `<container><name>${xmlEscape(i.name)}</name><count>${i.count}</count><bytes>${i.bytes}</bytes><last_modified>${i.lastModified}</last_modified></container>`,
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlEscape(account)}">${rows.join('')}</account>`;
  }
  return items.map((i) => ('subdir' in i ? i.subdir : i.name) + '\n').join('');
}

export function renderContainerListing(format: ListingFormat, container: string, items: ObjectListing[]): string {
  if (format === 'json') {
    return JSON.stringify(
      items.map((i) =>
        'subdir' in i
          ? { subdir: i.subdir }
          : { hash: i.hash, last_modified: i.lastModified, bytes: i.bytes, name: i.name, content_type: i.contentType, ...(i.symlinkPath ? { symlink_path: i.symlinkPath } : {}) },
      ),
    );
  }
  if (format === 'xml') {
    const rows = items.map((i) =>
      'subdir' in i
        ? `<subdir name="${xmlEscape(i.subdir)}"><name>${xmlEscape(i.subdir)}</name></subdir>`
        : `<object><name>${xmlEscape(i.name)}</name><hash>${i.hash}</hash><bytes>${i.bytes}</bytes><content_type>${xmlEscape(i.contentType)}</content_type><last_modified>${i.lastModified}</last_modified></object>`,
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlEscape(container)}">${rows.join('')}</container>`;
  }
  return items.map((i) => ('subdir' in i ? i.subdir : i.name) + '\n').join('');
}

/** Sends a listing: 204 for an empty plain listing, as Swift does; 200 otherwise. */
export function sendListing(s: SwiftRequest, contentType: string, body: string, headers: Record<string, string>): void {
  const { reply } = s;
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply.header('x-trans-id', s.request.id);
  reply.header('content-type', contentType);
  if (body === '') {
    reply.code(204).send();
    return;
  }
  reply.code(200).header('content-length', String(Buffer.byteLength(body)));
  if (s.method === 'HEAD') reply.send();
  else reply.send(body);
}
