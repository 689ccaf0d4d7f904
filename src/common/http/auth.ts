import type { FastifyRequest } from 'fastify';
import type { AuthContext, TokenValidator } from '../auth/index.js';
import { unauthorized } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` for routes that need a token. */
    auth?: AuthContext;
  }
}

/** Validates X-Auth-Token and attaches the caller's context; throws 401 otherwise. */
export async function authenticate(request: FastifyRequest, tokens: TokenValidator): Promise<AuthContext> {
  if (request.auth) return request.auth;
  const header = request.headers['x-auth-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (!token) throw unauthorized();
  request.auth = await tokens.validate(token.trim());
  return request.auth;
}

/** The context of a route that ran `authenticate`; a programming error otherwise. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new Error('route used authOf() without authenticate()');
  return request.auth;
}
