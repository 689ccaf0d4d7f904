import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.js';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => containsNul(v, depth + 1));
  return Object.entries(value as Record<string, unknown>).some(([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1));
}

/**
 * PostgreSQL text cannot hold NUL and SQLite truncates at it, so a NUL anywhere in the
 * path, query or JSON body is refused up front with the service's 400 instead of a 500.
 */
export function rejectNulBytes(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body)) {
      throw badRequest('Invalid input: the request contains a NUL character.');
    }
  });
}
