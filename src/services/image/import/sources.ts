import { Readable } from 'node:stream';
import { badRequest } from '../../../common/errors.js';
import type { InProcessHttp } from '../stores/in-process-http.js';

/** The only hosts web-download and glance-download may reach: this machine, never the network. */
export function isLoopbackHost(hostname: string): boolean {
  // WHATWG URL parsing has already turned 0x7f.1, 2130706433 and friends into dotted quads.
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (v4) return v4.slice(1).every((octet) => Number(octet) <= 255);
  return hostname === '[::1]' || hostname === 'localhost';
}

/** Glance's default import_filtering_opts.allowed_ports, for hosts other than this machine. */
const ALLOWED_REMOTE_PORTS = new Set(['', '80', '443']);

/**
 * Glance's import URI filter (import_filtering_opts) with its default rules: http or https, and
 * ports 80/443 unless the host is loopback (any port, so local test servers work). Refused URIs
 * get Glance's 400 before a task exists. Passing the filter does not mean we connect: see
 * fetchLoopback.
 */
export function filterImportUri(uri: unknown, what = 'web-download'): URL {
  const refuse = () => badRequest(`URI for ${what} does not pass filtering: ${String(uri)}`);
  if (typeof uri !== 'string' || !uri) throw refuse();
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw refuse();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse();
  if (!isLoopbackHost(url.hostname) && !ALLOWED_REMOTE_PORTS.has(url.port)) throw refuse();
  return url;
}

export interface FetchedBody {
  status: number;
  contentLength: number | null;
  body: Readable;
}

const MAX_REDIRECTS = 5;

/**
 * GETs a loopback URL. URLs of this cloud itself (same origin as its public URL) go through
 * the in-process app, so they work whether or not the process listens; other loopback URLs
 * go over a real socket. Redirects are followed only to URLs that pass the same filter.
 * Any other host fails here, before a connection is attempted: Nubes never reaches beyond
 * this machine, so such an import is accepted (as Glance would) and its task fails.
 */
export async function fetchLoopback(http: InProcessHttp, selfOrigin: string, url: URL, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<FetchedBody> {
  let current = url;
  for (let hops = 0; ; hops++) {
    if (!isLoopbackHost(current.hostname)) throw new Error(`${current.origin} is not reachable: this deployment only fetches from loopback hosts`);
    const got = current.origin === selfOrigin ? await viaApp(http, current, headers) : await viaSocket(current, headers, signal);
    if (got.status < 300 || got.status >= 400 || got.location === null) return got;
    got.body.destroy();
    if (hops >= MAX_REDIRECTS) throw new Error(`too many redirects from ${url.href}`);
    current = filterImportUri(new URL(got.location, current).href, 'redirect');
  }
}

async function viaApp(http: InProcessHttp, url: URL, headers: Record<string, string>): Promise<FetchedBody & { location: string | null }> {
  const res = await http.request({ method: 'GET', path: `${url.pathname}${url.search}`, headers });
  const length = res.headers['content-length'];
  const location = res.headers.location;
  return {
    status: res.status,
    contentLength: typeof length === 'string' && /^\d+$/.test(length) ? Number(length) : null,
    body: res.body,
    location: typeof location === 'string' ? location : null,
  };
}

async function viaSocket(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<FetchedBody & { location: string | null }> {
  // `localhost` could be mapped anywhere by /etc/hosts: connect to the loopback address itself.
  const target = new URL(url.href);
  if (target.hostname === 'localhost') target.hostname = '127.0.0.1';
  const res = await fetch(target, { headers, redirect: 'manual', ...(signal ? { signal } : {}) });
  const length = res.headers.get('content-length');
  const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
  return { status: res.status, contentLength: length && /^\d+$/.test(length) ? Number(length) : null, body, location: res.headers.get('location') };
}
