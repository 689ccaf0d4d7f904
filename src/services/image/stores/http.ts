import { isIP } from 'node:net';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StoreObjectMissing, type ByteRange, type ImageStore } from './types.js';

/** Writes to a read-only store; the upload paths check `readOnly` first, so this is a safety net. */
export class StoreReadOnly extends Error {
  override readonly name = 'StoreReadOnly';
}

const MAX_REDIRECTS = 5;

/**
 * Whether a URL may be read by this cloud: http(s) to a loopback host only. Image locations are
 * given by users, and a server that fetched any URL they name would reach whatever its network
 * reaches (SSRF); Nubes sends no traffic beyond loopback.
 */
export function isLoopbackUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || host === '::ffff:7f00:1';
  return false;
}

/**
 * Glance's read-only http store: image data that lives behind a URL the image's locations name.
 * The key is the URL itself. Nothing is written or deleted; reads follow redirects only while
 * they stay on loopback, and ask for byte ranges with a Range header (cutting the body
 * themselves when the server ignores it).
 */
export class HttpImageStore implements ImageStore {
  readonly name = 'http';

  constructor(private readonly timeoutMs = 30_000) {}

  async put(): Promise<{ size: number }> {
    throw new StoreReadOnly('the http store is read-only');
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const res = await this.fetch(key, 'GET', range ? { range: `bytes=${range.start}-${range.end}` } : {});
    if (res.status === 404 || res.status === 410) throw new StoreObjectMissing(`no data at ${key} (HTTP ${res.status})`);
    if (res.status !== 200 && res.status !== 206) throw new Error(`HTTP ${res.status} from ${key}`);
    if (!res.body) throw new StoreObjectMissing(`no data at ${key}`);
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    if (!range || res.status === 206) return body;
    return body.pipe(new Slice(range.start, range.end + 1));
  }

  /** Glance's get_size: the Content-Length a HEAD answers; null when the URL has no data to offer. */
  async stat(key: string): Promise<{ size: number } | null> {
    let res: Response;
    try {
      res = await this.fetch(key, 'HEAD', {});
    } catch {
      return null;
    }
    if (res.status !== 200) return null;
    const length = Number(res.headers.get('content-length'));
    return Number.isSafeInteger(length) && length >= 0 ? { size: length } : null;
  }

  async delete(): Promise<void> {
    // Glance's http store cannot delete: removing the location only forgets the URL.
  }

  async list(): Promise<string[]> {
    return [];
  }

  async cleanupPartial(): Promise<number> {
    return 0;
  }

  locationUrl(key: string): string {
    return key;
  }

  keyOf(url: string): string | null {
    return isLoopbackUrl(url) ? url : null;
  }

  private async fetch(key: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<Response> {
    let url = key.split('#')[0] as string;
    for (let hop = 0; ; hop++) {
      if (!isLoopbackUrl(url)) throw new Error(`refusing to read ${url}: only loopback URLs are allowed`);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`no answer from ${url} in ${this.timeoutMs} ms`)), this.timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, { method, headers, redirect: 'manual', signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects from ${key}`);
        url = new URL(location, url).toString();
        continue;
      }
      return res;
    }
  }
}

/** Passes bytes [start, end) of the stream through, for servers that ignore Range. */
class Slice extends Transform {
  private offset = 0;

  constructor(private readonly first: number, private readonly afterLast: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const from = Math.max(0, this.first - this.offset);
    const to = Math.min(chunk.length, this.afterLast - this.offset);
    this.offset += chunk.length;
    if (to > from) this.push(chunk.subarray(from, to));
    done();
  }
}
