import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { AuthContext } from '../../../common/auth/index.js';
import type { Caller } from './access.js';
import type { ObjectStoreApi } from './context.js';
import { statusLine } from './faults.js';
import type { SwiftPath } from './path.js';

/**
 * Subrequests: what Swift's middlewares (bulk, formpost) do with make_subrequest — a request
 * that runs through the whole pipeline (ACLs, quotas, versioning, symlinks) as if the client had
 * sent it. The environment a WSGI subrequest carries (who the caller is, or that it is already
 * authorized) travels here in a map keyed by a random id sent in an internal header; a client
 * sending that header gets nothing, since only ids minted in this process are in the map.
 */
export interface SubrequestEnv {
  /** The caller's identity: authorization still runs for the subrequest's own path. */
  ctx?: AuthContext;
  /** Pre-authorized (Swift's make_pre_authed_env): the request runs as this caller. */
  caller?: Caller;
}

const ENV_HEADER = 'x-nubes-subrequest-env';

export interface SubrequestOptions {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  path: SwiftPath;
  query?: string;
  headers?: Record<string, string>;
  body?: Readable | string;
  env: SubrequestEnv;
}

export interface SubResponse {
  status: number;
  /** Swift's status line, e.g. "404 Not Found", as bulk reports quote it. */
  statusLine: string;
  headers: Record<string, string>;
  body: string;
}

/** "/AUTH_x/c/o" with every segment percent-encoded (the object keeps its slashes). */
export function encodeSwiftPath(path: SwiftPath): string {
  let out = `/${encodeURIComponent(path.account)}`;
  if (path.container) out += `/${encodeURIComponent(path.container)}`;
  if (path.object) out += `/${encodeURIComponent(path.object).replace(/%2F/g, '/')}`;
  return out;
}

export async function subrequest(api: ObjectStoreApi, options: SubrequestOptions): Promise<SubResponse> {
  if (!api.inject) throw new Error('object-store routes are not mounted');
  const id = randomBytes(18).toString('base64url');
  api.subrequestEnvs.set(id, options.env);
  try {
    const url = `${api.v1Base}${encodeSwiftPath(options.path)}${options.query ? `?${options.query}` : ''}`;
    const res = await api.inject({
      method: options.method,
      url,
      headers: { ...options.headers, [ENV_HEADER]: id },
      ...(options.body !== undefined ? { payload: options.body } : {}),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
    return { status: res.statusCode, statusLine: statusLine(res.statusCode), headers, body: res.body };
  } finally {
    api.subrequestEnvs.delete(id);
  }
}

/** The environment of an internal subrequest; the header is removed either way. */
export function takeSubrequestEnv(api: ObjectStoreApi, headers: IncomingHttpHeaders): SubrequestEnv | undefined {
  const raw = headers[ENV_HEADER];
  if (raw === undefined) return undefined;
  delete headers[ENV_HEADER];
  const id = Array.isArray(raw) ? raw[0] : raw;
  return id ? api.subrequestEnvs.get(id) : undefined;
}
