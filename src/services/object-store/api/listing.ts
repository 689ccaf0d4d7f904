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

const XML_SPECIAL = /[&<>"]/;

function xmlEscape(value: string): string {
  if (!XML_SPECIAL.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** What JSON.stringify would escape in a string: quotes, backslashes, controls, lone surrogates. */
const JSON_SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, exactly as JSON.stringify writes it, without calling it for the usual plain names. */
function jsonString(value: string): string {
  return JSON_SPECIAL.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** Printable ASCII but `"` and `\`: quoted as it is, and one byte per character. */
const PLAIN_ASCII = /^[\u0020\u0021\u0023-\u005b\u005d-\u007e]*$/;

const BODY_CHUNK = 64 * 1024;

/**
 * Builds a listing body as UTF-8 bytes a row at a time. A 10,000-entry listing is ~1.6 MB:
 * building one string and having it encoded twice (Content-Length, then the socket write) cost
 * more than rendering it, so rows are encoded once, into 64 KiB chunks.
 */
class BodyBuilder {
  private readonly full: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(BODY_CHUNK);
  private at = 0;
  private total = 0;

  /** Appends `text`; `ascii` when it is known to be ASCII only (copied, not UTF-8 encoded). */
  add(text: string, ascii = false): void {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit
    if (this.chunk.length - this.at < text.length * 3) this.spill(text.length * 3);
    this.at += this.chunk.write(text, this.at, ascii ? 'latin1' : 'utf8');
  }

  finish(): Buffer {
    this.spill(0);
    return this.full.length === 1 ? this.full[0]! : Buffer.concat(this.full, this.total);
  }

  private spill(need: number): void {
    if (this.at > 0) {
      this.full.push(this.chunk.subarray(0, this.at));
      this.total += this.at;
    }
    this.chunk = need > 0 ? Buffer.allocUnsafe(Math.max(BODY_CHUNK, need)) : Buffer.alloc(0);
    this.at = 0;
  }
}

export function renderAccountListing(format: ListingFormat, account: string, items: ContainerListing[]): Buffer {
  const body = new BodyBuilder();
  if (format === 'json') {
    body.add('[');
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      const sep = k === 0 ? '' : ',';
      if ('subdir' in i) body.add(`${sep}{"subdir":${jsonString(i.subdir)}}`);
      else body.add(`${sep}{"name":${jsonString(i.name)},"count":${i.count},"bytes":${i.bytes},"last_modified":${jsonString(i.lastModified)}}`);
    }
    body.add(']');
  } else if (format === 'xml') {
    body.add(`<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlEscape(account)}">`);
    for (const i of items) {
      if ('subdir' in i) body.add(`<subdir name="${xmlEscape(i.subdir)}" />`);
      else body.add(`<container><name>${xmlEscape(i.name)}</name><count>${i.count}</count><bytes>${i.bytes}</bytes><last_modified>${i.lastModified}</last_modified></container>`);
    }
    body.add('</account>');
  } else {
    for (const i of items) body.add(('subdir' in i ? i.subdir : i.name) + '\n');
  }
  return body.finish();
}

export function renderContainerListing(format: ListingFormat, container: string, items: ObjectListing[]): Buffer {
  const body = new BodyBuilder();
  if (format === 'json') {
    body.add('[');
    for (let k = 0; k < items.length; k++) {
      const i = items[k]!;
      const sep = k === 0 ? '' : ',';
      if ('subdir' in i) {
        body.add(`${sep}{"subdir":${jsonString(i.subdir)}}`);
        continue;
      }
      const link = i.symlinkPath ? `,"symlink_path":${jsonString(i.symlinkPath)}` : '';
      if (PLAIN_ASCII.test(i.name) && PLAIN_ASCII.test(i.hash) && PLAIN_ASCII.test(i.contentType) && PLAIN_ASCII.test(i.lastModified)) {
        // the usual row: nothing to escape, nothing to encode
        body.add(`${sep}{"hash":"${i.hash}","last_modified":"${i.lastModified}","bytes":${i.bytes},"name":"${i.name}","content_type":"${i.contentType}"${link}}`, link === '' || PLAIN_ASCII.test(i.symlinkPath ?? ''));
        continue;
      }
      body.add(`${sep}{"hash":${jsonString(i.hash)},"last_modified":${jsonString(i.lastModified)},"bytes":${i.bytes},"name":${jsonString(i.name)},"content_type":${jsonString(i.contentType)}${link}}`);
    }
    body.add(']');
  } else if (format === 'xml') {
    body.add(`<?xml version="1.0" encoding="UTF-8"?>\n<container name="${xmlEscape(container)}">`);
    for (const i of items) {
      if ('subdir' in i) body.add(`<subdir name="${xmlEscape(i.subdir)}"><name>${xmlEscape(i.subdir)}</name></subdir>`);
      else body.add(`<object><name>${xmlEscape(i.name)}</name><hash>${i.hash}</hash><bytes>${i.bytes}</bytes><content_type>${xmlEscape(i.contentType)}</content_type><last_modified>${i.lastModified}</last_modified></object>`);
    }
    body.add('</container>');
  } else {
    for (const i of items) body.add(('subdir' in i ? i.subdir : i.name) + '\n');
  }
  return body.finish();
}

/** Sends a listing: 204 for an empty plain listing, as Swift does; 200 otherwise. */
export function sendListing(s: SwiftRequest, contentType: string, body: Buffer | '', headers: Record<string, string>): void {
  const { reply } = s;
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply.header('x-trans-id', s.request.id);
  reply.header('content-type', contentType);
  if (body.length === 0) {
    reply.code(204).send();
    return;
  }
  reply.code(200).header('content-length', String(body.length));
  if (s.method === 'HEAD') reply.send();
  else reply.send(body);
}
