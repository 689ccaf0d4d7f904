import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectStoreService } from '../service.js';
import type { ContainerInfo, StorageCluster } from '../storage/types.js';
import type { Caller } from './access.js';
import type { SwiftPath } from './path.js';
import type { SubrequestEnv } from './subrequest.js';

/** One Swift request after path parsing and authorization. */
export interface SwiftRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  method: string;
  path: SwiftPath;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The client's Content-Type (kept aside so Fastify never parses or refuses bodies). */
  contentType?: string;
  caller: Caller;
  /** The container's info when the request names a container (null: it does not exist). */
  container: ContainerInfo | null;
}

export class ObjectStoreApi {
  readonly cluster: StorageCluster;
  /** Runs an internal request through the whole Swift pipeline (set when the routes are mounted). */
  inject?: (options: InjectOptions) => Promise<LightMyRequestResponse>;
  /** "<service prefix>/v1": where subrequests are addressed. */
  v1Base = '/v1';
  /** Environments of subrequests in flight, keyed by an unguessable id (see subrequest.ts). */
  readonly subrequestEnvs = new Map<string, SubrequestEnv>();
  constructor(readonly service: ObjectStoreService) {
    this.cluster = service.cluster;
  }
  get config(): ObjectStoreService['config'] {
    return this.service.config;
  }
}

export function header(s: Pick<SwiftRequest, 'headers'>, name: string): string | undefined {
  const v = s.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Swift's truthy header values (utils.config_true_value). */
export function isTrue(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && ['true', '1', 'yes', 'on', 't', 'y'].includes(value.trim().toLowerCase());
}

/** HTTP date of a Swift timestamp, rounded up to the next second as Swift's Last-Modified is. */
export function httpDate(ts: string | Date): string {
  const ms = ts instanceof Date ? ts.getTime() : Number(ts) * 1000;
  return new Date(Math.ceil(ms / 1000) * 1000).toUTCString();
}

/** Sends a bodiless success answer with Swift's framing (Content-Length: 0, text/html). */
export function sendEmpty(s: SwiftRequest, status: number, headers: Record<string, string> = {}): FastifyReply {
  const { reply } = s;
  reply.code(status);
  reply.header('content-type', 'text/html; charset=UTF-8');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply.header('x-trans-id', s.request.id);
  if (status === 204 || status === 304) return reply.send();
  const body = status === 202 ? '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>' : '';
  reply.header('content-length', String(Buffer.byteLength(body)));
  return s.method === 'HEAD' ? reply.send() : reply.send(body);
}

/**
 * Swift's transaction id, "tx" + 21 hex digits + "-" + the Unix time in 10 hex digits; clients
 * (Tempest among them) check the format, and it doubles as X-Openstack-Request-Id as in Swift.
 */
export function swiftTransId(now: Date): string {
  const seconds = Math.floor(now.getTime() / 1000).toString(16).padStart(10, '0');
  // Swift's form: 21 hex digits of a uuid4. randomUUID draws from a cached entropy pool; a
  // randomBytes call per request cost ~7 µs.
  return `tx${randomUUID().replace(/-/g, '').slice(0, 21)}-${seconds}`;
}
