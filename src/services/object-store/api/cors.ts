import type { FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { ContainerInfo } from '../storage/types.js';

/**
 * CORS as Swift's proxy does it, configured per container with X-Container-Meta-Access-Control-
 * Allow-Origin (space-separated origins or "*"), -Max-Age and -Expose-Headers. strict_cors_mode:
 * a request from an origin the container does not allow gets no CORS headers.
 */

const ALLOWED: Record<'account' | 'container' | 'object', string[]> = {
  account: ['HEAD', 'GET', 'POST', 'OPTIONS'],
  container: ['HEAD', 'GET', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
  object: ['HEAD', 'GET', 'PUT', 'POST', 'DELETE', 'COPY', 'OPTIONS'],
};

/** Headers every CORS answer exposes (simple response headers plus Swift's own). */
const EXPOSED = ['cache-control', 'content-language', 'content-type', 'expires', 'last-modified', 'pragma', 'etag', 'x-timestamp', 'x-trans-id', 'x-openstack-request-id'];

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function allowOrigin(container: ContainerInfo | null): string {
  return (container?.metadata['meta-access-control-allow-origin'] ?? '').trim();
}

function originAllowed(container: ContainerInfo | null, origin: string): boolean {
  const allowed = allowOrigin(container).split(' ').map((o) => o.trim()).filter(Boolean);
  return allowed.includes(origin) || allowed.includes('*');
}

/** OPTIONS: 200 with Allow; a preflight (with Origin) from an allowed origin gets the CORS grant, others 401. */
export function preflight(reply: FastifyReply, transId: string, level: 'account' | 'container' | 'object', headers: IncomingHttpHeaders, container: ContainerInfo | null): void {
  const methods = ALLOWED[level];
  const out: Record<string, string> = { allow: methods.join(', ') };
  const origin = single(headers, 'origin');
  let status = 200;
  if (origin && level !== 'account') {
    const method = single(headers, 'access-control-request-method');
    if (!originAllowed(container, origin) || !method || !methods.includes(method)) {
      status = 401;
    } else {
      if (allowOrigin(container) === '*') out['access-control-allow-origin'] = '*';
      else {
        out['access-control-allow-origin'] = origin;
        out.vary = 'Origin';
      }
      const maxAge = container?.metadata['meta-access-control-max-age'];
      if (maxAge !== undefined) out['access-control-max-age'] = maxAge;
      out['access-control-allow-methods'] = methods.join(', ');
      const requested = (single(headers, 'access-control-request-headers') ?? '').split(',').map((h) => h.trim()).filter(Boolean);
      if (requested.length) {
        out['access-control-allow-headers'] = [...new Set(requested)].join(', ');
        out.vary = out.vary ? `${out.vary}, Access-Control-Request-Headers` : 'Access-Control-Request-Headers';
      }
    }
  }
  reply.code(status).header('x-trans-id', transId).header('content-type', 'text/html; charset=UTF-8');
  for (const [k, v] of Object.entries(out)) reply.header(k, v);
  reply.header('content-length', '0').send();
}

/**
 * Adds Access-Control-Allow-Origin / -Expose-Headers to an answer for an allowed origin, just
 * before it is sent (the proxy's cors_validation). Errors get them too, as in Swift.
 */
export function corsResponseHeaders(reply: FastifyReply, origin: string, container: ContainerInfo | null): void {
  if (!originAllowed(container, origin)) return;
  if (!reply.hasHeader('access-control-expose-headers')) {
    const exposed = new Set(EXPOSED);
    for (const name of Object.keys(reply.getHeaders())) {
      if (name.startsWith('x-container-meta') || name.startsWith('x-object-meta')) exposed.add(name);
    }
    const extra = container?.metadata['meta-access-control-expose-headers'];
    for (const h of (extra ?? '').split(' ')) if (h.trim()) exposed.add(h.trim().toLowerCase());
    reply.header('access-control-expose-headers', [...exposed].join(', '));
  }
  if (!reply.hasHeader('access-control-allow-origin')) {
    if (allowOrigin(container) === '*') reply.header('access-control-allow-origin', '*');
    else {
      reply.header('access-control-allow-origin', origin);
      const vary = reply.getHeader('vary');
      reply.header('vary', vary ? `${String(vary)}, Origin` : 'Origin');
    }
  }
}
