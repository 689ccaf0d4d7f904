import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../../common/clock.js';
import type { StorageCluster } from '../storage/types.js';
import { authenticate, type AccessKeyLookup } from './auth.js';
import { createBucket, deleteBucket, getBucketLocation, getBucketVersioning, headBucket, listBuckets, listObjectsV1, listObjectsV2, ownerAcl } from './buckets.js';
import { checkBucketName, DEFAULT_S3_CONFIG, requireBucket, type S3Config, type S3Context } from './context.js';
import { renderError, S3Error } from './errors.js';
import { abortUpload, completeUpload, createUpload, listParts, listUploads, uploadPart } from './multipart.js';
import { copyObject, deleteObject, deleteObjects, getObject, putObject } from './objects.js';
import type { SignableRequest } from './sigv4.js';

export type { AccessKeyLookup, S3Principal } from './auth.js';
export { DEFAULT_S3_CONFIG, type S3Config } from './context.js';

/**
 * What the S3 API needs from its host (the object-store module):
 *
 * - `cluster`: where buckets (containers of AUTH_<project_id>) and objects live;
 * - `lookupAccessKey`: the EC2 credential behind an access key — its secret, user, project and
 *   the user's role names on that project — or null (identity's `CredentialManager.ec2SecretFor`);
 *   signatures are checked here so the secret never has to leave the process;
 * - `config`: overrides of DEFAULT_S3_CONFIG ([filter:s3api] and keystoneauth's role lists);
 * - `prefix`: where to mount, relative to `app` (default "/s3"; path-style addressing
 *   <prefix>/<bucket>/<key>).
 */
export interface S3Deps {
  cluster: StorageCluster;
  lookupAccessKey: AccessKeyLookup;
  config?: Partial<S3Config>;
  prefix?: string;
  clock?: Clock;
  /** Swift account of a project; keystoneauth's reseller prefix "AUTH_" by default. */
  accountFor?: (projectId: string) => string;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Mounts the S3 API in its own encapsulated Fastify context under `deps.prefix`: its own body
 * handling (raw streams, no parsing), S3 XML errors and request ids, so nothing of the host
 * context's JSON handling applies.
 */
export async function registerS3Routes(app: FastifyInstance, deps: S3Deps): Promise<void> {
  const config: S3Config = { ...DEFAULT_S3_CONFIG, ...deps.config };
  const clock = deps.clock ?? systemClock;
  const accountFor = deps.accountFor ?? ((projectId: string) => `AUTH_${projectId}`);
  await app.register(
    async (s3) => {
      const mountPath = s3.prefix;
      // Bodies are streamed straight to storage; nothing is buffered or parsed up front.
      s3.removeAllContentTypeParsers();
      s3.addContentTypeParser('*', (_request, _payload, done) => done(null));
      s3.addHook('onRequest', async (request, reply) => {
        reply.header('x-amz-request-id', request.id);
      });
      s3.setErrorHandler((err: unknown, request, reply) => {
        let s3err: S3Error;
        if (err instanceof S3Error) s3err = err;
        else {
          const status = (err as { statusCode?: number } | null)?.statusCode;
          if (typeof status === 'number' && status >= 400 && status < 500) s3err = new S3Error('InvalidRequest', (err as Error).message);
          else {
            request.log.error({ err }, 's3 request failed');
            s3err = new S3Error('InternalError');
          }
        }
        if (request.method === 'HEAD') return reply.code(s3err.status).send();
        const resource = decodeSafe(request.url.split('?')[0]?.slice(mountPath.length) || '/');
        return reply.code(s3err.status).header('content-type', 'application/xml').send(renderError(s3err, resource, String(request.id)));
      });
      s3.setNotFoundHandler((request, reply) => {
        const err = new S3Error('MethodNotAllowed', undefined, { Method: request.method, ResourceType: 'OBJECT' });
        reply.code(err.status).header('content-type', 'application/xml').send(renderError(err, request.url, String(request.id)));
      });
      // Returning the reply tells Fastify the response (possibly a stream) is already under way.
      const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
        await handle(request, reply, { deps, config, clock, accountFor, mountPath });
        return reply;
      };
      for (const url of ['/', '/*']) {
        s3.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'], url, exposeHeadRoute: false, handler });
      }
    },
    { prefix: deps.prefix ?? '/s3' },
  );
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function decodeStrict(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** The query string as S3 reads it: value-less sub-resources ("?uploads") become "". */
function parseQuery(raw: string): [string, string][] {
  if (!raw) return [];
  return raw
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decodeStrict(p), ''] : [decodeStrict(p.slice(0, eq)), decodeStrict(p.slice(eq + 1))];
    });
}

interface Runtime {
  deps: S3Deps;
  config: S3Config;
  clock: Clock;
  accountFor: (projectId: string) => string;
  mountPath: string;
}

async function handle(request: FastifyRequest, reply: FastifyReply, rt: Runtime): Promise<void> {
  const url = request.raw.url ?? request.url;
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  const signable: SignableRequest = { method: request.method, rawPath, query, headers: request.headers };
  const now = rt.clock.now();
  const auth = await authenticate(signable, rt.deps.lookupAccessKey, { location: rt.config.location, maxSkewMs: rt.config.maxSkewMs, mountPath: rt.mountPath }, now);

  // keystoneauth: operator roles own the project's account; reader roles may only read.
  const roles = new Set(auth.principal.roles.map((r) => r.toLowerCase()));
  const operator = rt.config.operatorRoles.some((r) => roles.has(r.toLowerCase()));
  const reader = rt.config.readerRoles.some((r) => roles.has(r.toLowerCase()));
  if (!operator && !(reader && READ_METHODS.has(request.method))) throw new S3Error('AccessDenied');

  const rest = rawPath.slice(rt.mountPath.length).replace(/^\//, '');
  const slash = rest.indexOf('/');
  const bucket = decodeStrict(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? '' : decodeStrict(rest.slice(slash + 1));
  const ctx: S3Context = {
    cluster: rt.deps.cluster,
    config: rt.config,
    auth,
    account: rt.accountFor(auth.principal.projectId),
    bucket,
    key,
    query: new Map(query),
    request,
    reply,
    now: () => rt.clock.now(),
  };
  await dispatch(ctx);
}

const notImplemented = (): never => {
  throw new S3Error('NotImplemented', 'This operation is not implemented.');
};

/** Unsupported bucket/object sub-resources, answered NotImplemented like s3api does. */
const UNSUPPORTED = ['cors', 'lifecycle', 'logging', 'notification', 'policy', 'replication', 'requestPayment', 'tagging', 'website', 'encryption', 'object-lock', 'versions', 'restore', 'torrent', 'retention', 'legal-hold', 'select', 'accelerate', 'analytics', 'inventory', 'metrics', 'ownershipControls', 'publicAccessBlock', 'intelligent-tiering', 'attributes'];

async function dispatch(ctx: S3Context): Promise<void> {
  const method = ctx.request.method;
  const has = (name: string): boolean => ctx.query.has(name);
  if (!ctx.bucket) {
    if (method === 'GET' || method === 'HEAD') return listBuckets(ctx);
    throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'SERVICE' });
  }
  checkBucketName(ctx.bucket, false);
  if (UNSUPPORTED.some(has)) return notImplemented();

  if (!ctx.key) {
    switch (method) {
      case 'GET':
        if (has('location')) return getBucketLocation(ctx);
        if (has('versioning')) return getBucketVersioning(ctx);
        if (has('acl')) {
          await requireBucket(ctx);
          return ownerAcl(ctx);
        }
        if (has('uploads')) return listUploads(ctx);
        if (ctx.query.get('list-type') === '2') return listObjectsV2(ctx);
        return listObjectsV1(ctx);
      case 'HEAD':
        return headBucket(ctx);
      case 'PUT':
        if (has('acl') || has('versioning')) return notImplemented();
        return createBucket(ctx);
      case 'DELETE':
        return deleteBucket(ctx);
      case 'POST':
        if (has('delete')) return deleteObjects(ctx);
        throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'BUCKET' });
    }
  }

  const uploadId = ctx.query.get('uploadId');
  switch (method) {
    case 'GET':
      if (has('acl')) {
        await getObjectExists(ctx);
        return ownerAcl(ctx);
      }
      if (uploadId !== undefined) return listParts(ctx, uploadId);
      return getObject(ctx, false);
    case 'HEAD':
      return getObject(ctx, true);
    case 'PUT': {
      if (has('acl')) return notImplemented();
      if (uploadId !== undefined || has('partNumber')) return uploadPart(ctx, uploadId ?? '');
      const source = ctx.request.headers['x-amz-copy-source'];
      if (typeof source === 'string') return copyObject(ctx, source);
      return putObject(ctx);
    }
    case 'DELETE':
      if (uploadId !== undefined) return abortUpload(ctx, uploadId);
      return deleteObject(ctx);
    case 'POST':
      if (has('uploads')) return createUpload(ctx);
      if (uploadId !== undefined) return completeUpload(ctx, uploadId);
      throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
  }
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' });
}

async function getObjectExists(ctx: S3Context): Promise<void> {
  if (!(await ctx.cluster.headObject(ctx.account, ctx.bucket, ctx.key))) {
    await requireBucket(ctx);
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
}
