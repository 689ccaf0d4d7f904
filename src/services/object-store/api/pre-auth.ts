import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthContext } from '../../../common/auth/index.js';
import type { SwiftPath } from './path.js';

/**
 * A request seen by the middlewares Swift runs before authentication (bulk, FormPOST): they
 * authorize each subrequest they make instead of the request itself.
 */
export interface PreAuthRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  method: string;
  account: string;
  path: SwiftPath;
  /** The path as the client sent it (still URL-encoded), e.g. "/object-store/v1/AUTH_x/c/". */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  contentType?: string;
  /** The caller's token, validated on first use; undefined when anonymous or invalid. */
  identity(): Promise<AuthContext | undefined>;
}
