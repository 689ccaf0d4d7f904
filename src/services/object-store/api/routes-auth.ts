import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../../../common/auth/index.js';
import { CloudError } from '../../../common/errors.js';
import { authorize, type Caller } from './access.js';
import { header, type ObjectStoreApi, type SwiftRequest } from './context.js';
import type { SwiftPath } from './path.js';
import type { ContainerInfo } from '../storage/types.js';

/**
 * The caller's token, if any. An invalid or expired token makes the request anonymous, as
 * keystonemiddleware's delay_auth_decision does in Swift's pipeline: public containers still
 * answer, everything else gets 401.
 */
export async function identify(api: ObjectStoreApi, request: FastifyRequest): Promise<AuthContext | undefined> {
  const raw = request.headers['x-auth-token'] ?? request.headers['x-storage-token'];
  const token = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!token) return undefined;
  try {
    return await api.service.tokens.validate(token);
  } catch (err) {
    if (err instanceof CloudError && (err.status === 401 || err.status === 404)) return undefined;
    throw err;
  }
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'DELETE', 'COPY']);

/** Which container ACL applies to a request: reads → X-Container-Read, object writes → X-Container-Write. */
function applicableAcl(method: string, path: SwiftPath, container: ContainerInfo | null): string | undefined {
  if (!path.container || !container) return undefined;
  if (method === 'GET' || method === 'HEAD') return container.metadata.read;
  if (path.object && WRITE_METHODS.has(method)) return container.metadata.write;
  return undefined;
}

export async function authorizeFor(api: ObjectStoreApi, ctx: AuthContext | undefined, method: string, path: SwiftPath, container: ContainerInfo | null, referer: string | undefined): Promise<Caller> {
  return authorize({
    ctx,
    method,
    path,
    acl: applicableAcl(method, path, container),
    accountAcl: async () => (await api.cluster.headAccount(path.account))?.metadata['access-control'],
    referer,
    operatorRoles: api.config.operator_roles.split(',').map((r) => r.trim()).filter(Boolean),
    resellerRole: api.config.reseller_admin_role,
  });
}

/** A copy reads its source with the caller's own rights (Swift's copy middleware does a sub-GET). */
export async function authorizeSource(api: ObjectStoreApi, s: SwiftRequest, account: string, container: string, object: string): Promise<void> {
  if (s.caller.reseller || (s.caller.owner && account === s.path.account)) return;
  const info = await api.cluster.headContainer(account, container);
  await authorizeFor(api, s.caller.ctx, 'GET', { account, container, object }, info, header(s, 'referer'));
}
