import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { handleAccount } from './account.js';
import { handleContainer } from './container.js';
import { containerSyncCaller, handleSyncedWrite } from './container-sync.js';
import { swiftTransId, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';
import { swiftInfo } from './info.js';
import { handleObject } from './object.js';
import { decodePath, parseCopyTarget, splitSwiftPath } from './path.js';
import { authorizeFor, identify } from './routes-auth.js';
import type { Caller } from './access.js';
import { tempUrlDisposition, verifyTempUrl } from './tempurl.js';
import type { AuthContext } from '../../../common/auth/index.js';
import type { ContainerInfo } from '../storage/types.js';
import { bulkDelete, isBulkDelete } from './bulk-delete.js';
import { corsResponseHeaders, preflight } from './cors.js';
import { extractArchive, extractArchiveKind } from './extract-archive.js';
import { formBoundary, formPost } from './formpost.js';
import type { PreAuthRequest } from './pre-auth.js';
import { serveStaticWeb, wantsStaticWeb } from './staticweb.js';
import { takeSubrequestEnv } from './subrequest.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY', 'OPTIONS'] as const;

declare module 'fastify' {
  interface FastifyRequest {
    /** The client's Content-Type, moved aside by the object-store so Fastify never parses bodies. */
    swiftContentType?: string;
    /** A CORS request's origin and container: the answer gets Access-Control-* headers. */
    swiftCors?: { origin: string; container: ContainerInfo | null };
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
  api.inject = (options) => app.inject(options);
  api.v1Base = `${app.prefix}/v1`;
  app.addHook('onRequest', async (request) => {
    request.id = swiftTransId(api.service.now());
  });
  // CORS headers go on whatever answer a CORS request gets, errors included
  app.addHook('onSend', async (request, reply) => {
    if (request.swiftCors) corsResponseHeaders(reply, request.swiftCors.origin, request.swiftCors.container);
  });
  app.get('/info', async (request, reply) => {
    reply.header('x-trans-id', request.id).type('application/json; charset=utf-8');
    return reply.send(JSON.stringify(swiftInfo(api.service)));
  });
  app.get('/healthcheck', async (request, reply) => reply.header('x-trans-id', request.id).type('text/plain').send('OK'));
  app.get('/crossdomain.xml', async (request, reply) => {
    reply.header('x-trans-id', request.id).type('application/xml');
    return reply.send(CROSSDOMAIN_POLICY);
  });
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

/** crossdomain middleware's default policy document. */
const CROSSDOMAIN_POLICY =
  '<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n<cross-domain-policy>\n<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>';

/**
 * The middlewares Swift runs before authentication: bulk (delete, extract archive) and
 * FormPOST; they authorize the subrequests they make. True when one of them answered.
 */
async function preAuthMiddleware(api: ObjectStoreApi, r: PreAuthRequest): Promise<boolean> {
  const archive = extractArchiveKind(r.method, r.query);
  if (archive !== undefined) {
    await extractArchive(api, r, archive);
    return true;
  }
  if (isBulkDelete(r.method, r.query)) {
    await bulkDelete(api, r);
    return true;
  }
  const boundary = formBoundary(r.method, r.contentType);
  if (boundary !== undefined && !r.query.has('temp_url_sig')) {
    await formPost(api, r, boundary);
    return true;
  }
  return false;
}

/** WSGI cannot tell "_" from "-" in header names; Swift clients rely on X-Object-Meta-a_b being a-b. */
function withHyphens(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) out[k.includes('_') ? k.replace(/_/g, '-') : k] = v;
  return out;
}

async function dispatch(api: ObjectStoreApi, base: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const url = request.url;
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  let path = splitSwiftPath(decodePath(rawPath.slice(base.length)), api.config);
  let method = request.method;
  const headers = withHyphens(request.headers);
  const env = takeSubrequestEnv(api, headers);
  const ctxOnce = (): Promise<AuthContext | undefined> => identify(api, request);

  if (method === 'OPTIONS') {
    const info = path.container ? await api.cluster.headContainer(path.account, path.container) : null;
    return preflight(reply, request.id, path.object ? 'object' : path.container ? 'container' : 'account', headers, info);
  }
  if (!env && (await preAuthMiddleware(api, { request, reply, method, account: path.account, path, rawPath, query, headers, contentType: request.swiftContentType, identity: ctxOnce }))) return;

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
  const origin = headers.origin;
  if (typeof origin === 'string' && path.container) request.swiftCors = { origin, container };
  let caller: Caller;
  // a container-sync daemon's request, authorized by the container's sync key (or its realm signature)
  const syncCaller = env || request.method === 'COPY' ? undefined : containerSyncCaller(api, { method, path, container, headers, rawPath });
  if (env) {
    caller = env.caller ?? (await authorizeFor(api, env.ctx, method, path, container, undefined));
  } else if (syncCaller) {
    caller = syncCaller;
  } else if (query.has('temp_url_sig') || query.has('temp_url_expires')) {
    caller = await verifyTempUrl(api, method, path, query, base.slice(0, base.lastIndexOf('/')));
    if (method === 'GET' || method === 'HEAD') reply.header('content-disposition', tempUrlDisposition(path, query));
  } else {
    const referer = typeof headers.referer === 'string' ? headers.referer : undefined;
    caller = await authorizeFor(api, await ctxOnce(), method, path, container, referer);
  }
  const s: SwiftRequest = { request, reply, method, path, query, headers, contentType: request.swiftContentType, caller, container };
  if (syncCaller && (method === 'PUT' || method === 'DELETE')) return handleSyncedWrite(api, s);
  if (wantsStaticWeb(s) && (await serveStaticWeb(api, s, rawPath))) return;
  if (path.object) return handleObject(api, s);
  if (path.container) return handleContainer(api, s);
  return handleAccount(api, s);
}
