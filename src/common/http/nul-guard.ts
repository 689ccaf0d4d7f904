import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.js';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  // Only parsed JSON is inspected: a streamed body (IncomingMessage) reaches the socket, the
  // server and beyond, and walking that graph never ends.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.entries(value as Record<string, unknown>).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1));
}

/** Params and query strings are flat maps (of router-specific classes): check keys and values. */
function flatHasNul(map: unknown): boolean {
  if (typeof map !== 'object' || map === null) return false;
  for (const key in map) {
    if (key.includes('\u0000')) return true;
    const value: unknown = (map as Record<string, unknown>)[key];
    if (typeof value === 'string' ? value.includes('\u0000') : Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes('\u0000'))) return true;
  }
  return false;
}

/**
 * PostgreSQL text cannot hold NUL and SQLite truncates at it, so a NUL anywhere in the
 * path, query or JSON body is refused up front with the service's 400 instead of a 500.
 */
export function rejectNulBytes(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (flatHasNul(request.params) || flatHasNul(request.query) || containsNul(request.body)) {
      throw badRequest('Invalid input: the request contains a NUL character.');
    }
  });
}
