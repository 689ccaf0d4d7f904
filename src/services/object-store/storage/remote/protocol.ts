import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The internal protocol between the proxy (any `nubes start`) and a storage node
 * (`nubes agent storage`): plain HTTP/1.1, one resource per device, partition and hash, JSON
 * for metadata and raw streams for object bytes. docs/object-store.md ("Storage agent
 * protocol") lists every route; the server is in server.ts, the client in client.ts.
 */

export const PROTOCOL_PREFIX = '/v1';

/** The shared secret (`[object_store] storage_key`) travels in this header on every request. */
export const KEY_HEADER = 'x-nubes-storage-key';

/** Object uploads end with this trailer carrying the footer metadata; without it nothing is committed. */
export const COMMIT_TRAILER = 'x-nubes-commit';

/** Names the failure class of an error answer, so the client rethrows the same error kind. */
export const ERROR_HEADER = 'x-nubes-error';

export type WireError = 'device_unavailable' | 'corrupt' | 'stale' | 'bad_request' | 'unauthorized' | 'internal';

export const WIRE_STATUS: Record<WireError, number> = {
  device_unavailable: 507,
  corrupt: 409,
  stale: 409,
  bad_request: 400,
  unauthorized: 401,
  internal: 500,
};

/** Trailer values must be header-safe: the metadata JSON (any UTF-8 object name) goes base64url-encoded. */
export function encodeCommit(meta: unknown): string {
  return Buffer.from(JSON.stringify(meta)).toString('base64url');
}

export function decodeCommit(value: string): unknown {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
}

/** Constant-time comparison of the presented key with the configured one. */
export function keyMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Addresses an agent may serve without a key: only this machine can reach them. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}
