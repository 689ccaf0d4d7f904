import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { handleAccount } from './account.js';
import { handleContainer } from './container.js';
import { type ObjectStoreApi, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';
import { swiftInfo } from './info.js';
import { handleObject } from './object.js';
import { decodePath, parseCopyTarget, splitSwiftPath } from './path.js';
import { authorizeFor, identify } from './routes-auth.js';
import type { Caller } from './access.js';
import { tempUrlDisposition, verifyTempUrl } from './tempurl.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY', 'OPTIONS'] as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's Content-Type, moved aside by the object-store so Fastify never parses bodies. */
    swiftContentType?: string;
  }
}

/**
 * Object bodies are data, not JSON: no parser may read or limit them. Content-Type is moved aside
 * before Fastify's parser selection (which would refuse unusual media types with 415) and the
 * catch-all parser leaves the stream untouched for the handlers to pipe into the cluster.
 */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.addHook('onRequest', async (request) => {
    const ct = request.headers['content-type'];
    if (ct !== undefined) {
      request.swiftContentType = ct;
      delete request.headers['content-type'];
    }
  });
}

export async function registerSwiftRoutes(app: FastifyInstance, api: ObjectStoreApi): Promise<void> {
  // WebDAV's COPY is Swift's server-side copy verb; Fastify only routes methods it was told about
  app.addHttpMethod('COPY', { hasBody: false, overrideExisting: true });
  app.get('/info', async (request, reply) => {
    reply.header('x-trans-id', request.id).type('application/json; charset=utf-8');
    return reply.send(JSON.stringify(swiftInfo(api.service)));
  });
  app.get('/healthcheck', async (request, reply) => reply.header('x-trans-id', request.id).type('text/plain').send('OK'));
  const prefix = app.prefix;
  for (const version of ['v1', 'v1.0']) {
    app.route({
      method: [...METHODS],
      url: `/${version}/*`,
      exposeHeadRoute: false,
      // returning the reply tells Fastify the answer (often a stream still flowing) is already underway
      handler: async (request, reply) => {
        await dispatch(api, prefix + '/' + version, request, reply);
        return reply;
      },
    });
  }
}

async function dispatch(api: ObjectStoreApi, base: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const url = request.url;
  const q = url.indexOf('?');
  const rawPath = (q < 0 ? url : url.slice(0, q)).slice(base.length);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  let path = splitSwiftPath(decodePath(rawPath), api.config);
  let method = request.method;
  const headers = { ...request.headers };
  if (method === 'OPTIONS') throw swiftError(405);

  // COPY is a PUT of the destination from the source (Swift's copy middleware does the same)
  if (method === 'COPY') {
    if (!path.object) throw swiftError(405);
    const destination = headers.destination;
    if (typeof destination !== 'string') throw swiftError(412, 'You must provide a Destination header');
    const dest = parseCopyTarget(destination, 'Destination');
    headers['x-copy-from'] = `/${encodeURIComponent(path.container as string)}/${encodeURIComponent(path.object)}`;
    const destAccount = typeof headers['destination-account'] === 'string' ? decodeURIComponent(headers['destination-account']) : path.account;
    if (destAccount !== path.account) headers['x-copy-from-account'] = encodeURIComponent(path.account);
    headers['content-length'] = '0';
    path = { account: destAccount, container: dest.container, object: dest.object };
    method = 'PUT';
  }

  const container = path.container ? await api.cluster.headContainer(path.account, path.container) : null;
  let caller: Caller;
  if (query.has('temp_url_sig') || query.has('temp_url_expires')) {
    caller = await verifyTempUrl(api, method, path, query, base.slice(0, base.lastIndexOf('/')));
    if (method === 'GET' || method === 'HEAD') reply.header('content-disposition', tempUrlDisposition(path, query));
  } else {
    const ctx = await identify(api, request);
    const referer = typeof headers.referer === 'string' ? headers.referer : undefined;
    caller = await authorizeFor(api, ctx, method, path, container, referer);
  }
  const s: SwiftRequest = { request, reply, method, path, query, headers, contentType: request.swiftContentType, caller, container };
  if (path.object) return handleObject(api, s);
  if (path.container) return handleContainer(api, s);
  return handleAccount(api, s);
}
