import type { FastifyRequest } from 'fastify';

/** The externally visible base URL: the configured public URL, else the Host the client used. */
export function baseUrl(request: FastifyRequest, publicUrl: string | null): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const proto = (request.headers['x-forwarded-proto'] as string | undefined) ?? request.protocol;
  const host = request.headers['x-forwarded-host'] ?? request.headers.host ?? 'localhost';
  return `${proto}://${String(host)}`;
}

/** The full URL of the request, for `self` links. */
export function selfUrl(request: FastifyRequest, publicUrl: string | null): string {
  return `${baseUrl(request, publicUrl)}${request.url}`;
}
