import type { AuthContext } from '../../../common/auth/index.js';
import { accountAccess, parseAcl, referrerAllowed } from './acl.js';
import { swiftError } from './faults.js';
import type { SwiftPath } from './path.js';

/** Who the request runs as once authorized. `owner` is keystoneauth's swift_owner. */
export interface Caller {
  ctx?: AuthContext;
  owner: boolean;
  reseller: boolean;
  /** Signed access (TempURL / FormPOST): no identity, limited to the signed object. */
  signed?: boolean;
}

export interface AuthorizeInput {
  ctx?: AuthContext;
  method: string;
  path: SwiftPath;
  /** The container ACL that applies: X-Container-Read for reads, X-Container-Write for writes. */
  acl?: string;
  /** Loads the account's X-Account-Access-Control only when it is needed. */
  accountAcl: () => Promise<string | undefined>;
  referer?: string;
  operatorRoles: string[];
  resellerRole: string;
}

export const RESELLER_PREFIX = 'AUTH_';
const READ_METHODS = new Set(['GET', 'HEAD']);

/** 401 for anonymous callers, 403 for authenticated ones (keystoneauth's denied_response). */
function denied(ctx?: AuthContext): never {
  throw swiftError(ctx ? 403 : 401);
}

/**
 * keystoneauth's authorize()/authorize_anonymous(): reseller admin, cross-project container ACLs,
 * referrer ACLs, project ownership through an operator role, role-name ACLs; then account ACLs
 * (X-Account-Access-Control, which Swift honours in tempauth) as the last chance.
 */
export async function authorize(input: AuthorizeInput): Promise<Caller> {
  const { ctx, method, path } = input;
  const { referrers, groups } = parseAcl(input.acl);
  const referrerOk = (): boolean | undefined => {
    if (!referrerAllowed(input.referer, referrers)) return undefined;
    return Boolean(path.object) || groups.includes('.rlistings');
  };
  if (!ctx) {
    if (!path.account.startsWith(RESELLER_PREFIX)) denied();
    if (referrerOk()) return { owner: false, reseller: false };
    denied();
  }
  const roles = ctx.roles.map((r) => r.name.toLowerCase());
  if (roles.includes(input.resellerRole.toLowerCase())) return { ctx, owner: true, reseller: true };
  if (!path.container && method === 'DELETE') denied(ctx);

  const project = ctx.project;
  const ownAccount = Boolean(project) && path.account === `${RESELLER_PREFIX}${project?.id}`;
  const operator = input.operatorRoles.map((r) => r.toLowerCase());
  // Swift's proxy first authorizes without the container ACL, so an operator of the account is
  // its owner (and sees ACL headers) even when a public-read ACL would also let it in
  if (ownAccount && roles.some((r) => operator.includes(r))) return { ctx, owner: true, reseller: false };
  if (groups.length && project) {
    for (const t of [project.id, '*', project.name]) {
      for (const u of [ctx.user.id, '*', ctx.user.name]) {
        if (groups.includes(`${t}:${u}`)) return { ctx, owner: false, reseller: false };
      }
    }
  }
  const byReferrer = referrerOk();
  if (byReferrer) return { ctx, owner: false, reseller: false };

  if (ownAccount) {
    if (byReferrer === false) denied(ctx);
    const aclRoles = groups.map((g) => g.toLowerCase());
    if (roles.some((r) => aclRoles.includes(r))) return { ctx, owner: false, reseller: false };
  }

  const identities = [ctx.user.id, ctx.user.name];
  if (project) identities.push(`${project.id}:${ctx.user.id}`, `${project.name}:${ctx.user.name}`, `${project.id}:*`, `*:${ctx.user.id}`);
  const level = accountAccess(await input.accountAcl(), identities);
  if (level === 'admin') return { ctx, owner: true, reseller: false };
  if (level === 'read-write' && (READ_METHODS.has(method) || path.container)) return { ctx, owner: false, reseller: false };
  if (level === 'read-only' && READ_METHODS.has(method)) return { ctx, owner: false, reseller: false };
  denied(ctx);
}
