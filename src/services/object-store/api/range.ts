import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { header, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';

/** Anything readable as bytes [start, end): a plain object or a large object's concatenation. */
export interface ByteSource {
  size: number;
  contentType: string;
  read(start: number, end: number): Promise<Readable>;
}

function etagList(value: string): string[] {
  return value.split(',').map((v) => v.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
}

/**
 * If-Match / If-None-Match / If-Unmodified-Since / If-Modified-Since on GET and HEAD, in the
 * order Swift's object server applies them: 412 for failed preconditions, 304 for cache hits.
 */
export function evaluateConditions(s: SwiftRequest, etag: string, lastModified: Date): 200 | 304 | 412 {
  const bare = etag.replace(/^"(.*)"$/, '$1');
  const ifMatch = header(s, 'if-match');
  if (ifMatch !== undefined && !etagList(ifMatch).some((e) => e === '*' || e === bare)) return 412;
  const ifNoneMatch = header(s, 'if-none-match');
  if (ifNoneMatch !== undefined && etagList(ifNoneMatch).some((e) => e === '*' || e === bare)) return 304;
  const seconds = Math.ceil(lastModified.getTime() / 1000);
  const ifUnmodified = header(s, 'if-unmodified-since');
  if (ifUnmodified !== undefined) {
    const t = Date.parse(ifUnmodified);
    if (!Number.isNaN(t) && seconds > Math.floor(t / 1000)) return 412;
  }
  const ifModified = header(s, 'if-modified-since');
  if (ifModified !== undefined && ifNoneMatch === undefined) {
    const t = Date.parse(ifModified);
    if (!Number.isNaN(t) && seconds <= Math.floor(t / 1000)) return 304;
  }
  return 200;
}

/**
 * swob.Range: "bytes=a-b,c-,-n". Bad syntax means the header is ignored (null); ranges that
 * start past the end are dropped; none left → 416 with "Content-Range: bytes * /size".
 */
export function parseRanges(value: string | undefined, size: number): { start: number; end: number }[] | null {
  if (!value) return null;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(value);
  if (!m) return null;
  const specs: [number | null, number | null][] = [];
  for (const part of (m[1] as string).split(',')) {
    const r = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(part);
    if (!r) return null;
    const a = r[1] === '' ? null : Number(r[1]);
    const b = r[2] === '' ? null : Number(r[2]);
    if (a === null && b === null) return null;
    if (a !== null && b !== null && b < a) return null;
    specs.push([a, b]);
  }
  if (size === 0) return null;
  const out: { start: number; end: number }[] = [];
  for (const [a, b] of specs) {
    if (a === null) {
      if (b === 0) continue;
      out.push({ start: Math.max(0, size - (b as number)), end: size });
    } else {
      if (a >= size) continue;
      out.push({ start: a, end: b === null ? size : Math.min(b + 1, size) });
    }
  }
  if (!out.length) throw swiftError(416, undefined, { 'content-range': `bytes */${size}` });
  return out;
}

/** Streams a whole source or the requested ranges (206 single / multipart/byteranges). */
export async function sendSource(s: SwiftRequest, source: ByteSource, headers: Record<string, string>, ignoreRange = false): Promise<void> {
  const { reply } = s;
  reply.header('x-trans-id', s.request.id);
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  const ranges = ignoreRange ? null : parseRanges(header(s, 'range'), source.size);
  if (!ranges) {
    reply.code(200).header('content-type', source.contentType).header('content-length', String(source.size));
    if (s.method === 'HEAD') return void reply.send();
    return void reply.send(await source.read(0, source.size));
  }
  if (ranges.length === 1) {
    const { start, end } = ranges[0] as { start: number; end: number };
    reply.code(206).header('content-type', source.contentType).header('content-length', String(end - start));
    reply.header('content-range', `bytes ${start}-${end - 1}/${source.size}`);
    if (s.method === 'HEAD') return void reply.send();
    return void reply.send(await source.read(start, end));
  }
  const boundary = randomBytes(16).toString('hex');
  const heads = ranges.map(
    (r, i) => `${i ? '\r\n' : ''}--${boundary}\r\nContent-Type: ${source.contentType}\r\nContent-Range: bytes ${r.start}-${r.end - 1}/${source.size}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--`;
  const length = heads.reduce((n, h, i) => n + Buffer.byteLength(h) + ((ranges[i]?.end ?? 0) - (ranges[i]?.start ?? 0)), Buffer.byteLength(tail));
  reply.code(206).header('content-type', `multipart/byteranges;boundary=${boundary}`).header('content-length', String(length));
  if (s.method === 'HEAD') return void reply.send();
  async function* parts(): AsyncGenerator<Buffer> {
    for (const [i, r] of ranges!.entries()) {
      yield Buffer.from(heads[i] as string);
      for await (const chunk of await source.read(r.start, r.end)) yield chunk as Buffer;
    }
    yield Buffer.from(tail);
  }
  return void reply.send(Readable.from(parts()));
}
