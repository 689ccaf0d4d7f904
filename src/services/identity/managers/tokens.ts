import { CloudError, notFound, unauthorized } from '../../../common/errors.js';
import type { AuthContext, TokenValidator } from '../../../common/auth/index.js';
import { FernetTokenFormatter, InvalidTokenError, newAuditId, type TokenPayload, type TokenScope } from '../token/index.js';
import type { Domain, Project, Role, User } from '../model/types.js';
import type { IdentityCore } from './core.js';
import { domainFromProject, projectFromRow, type ResourceManager } from './resource.js';
import { userFromRow, type UserManager } from './users.js';
import type { AssignmentManager } from './assignments.js';
import type { RevocationManager } from './revocations.js';

export interface TrustInfo {
  id: string;
  impersonation: boolean;
  trustorUserId: string;
  trusteeUserId: string;
}
export interface AppCredInfo {
  id: string;
  name: string;
  restricted: boolean;
  accessRules?: { id: string; service: string; path: string; method: string }[];
}

/** Everything a validated token stands for; rendered by api/auth/view.ts. */
export interface TokenData {
  token: string;
  user: User & { domainName: string };
  methods: string[];
  auditIds: string[];
  issuedAt: Date;
  expiresAt: Date;
  project?: Project & { domainName: string };
  domain?: Domain;
  system?: 'all';
  roles: Role[];
  trust?: TrustInfo;
  appCred?: AppCredInfo;
  isAdminProject: boolean;
}

export type IssueScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system' }
  | { kind: 'trust'; projectId: string | null; trustId: string }
  | { kind: 'app_cred'; projectId: string; appCredId: string };

export interface IssueRequest {
  userId: string;
  methods: string[];
  scope: IssueScope;
  /** Rescoped tokens keep the original expiry. */
  expiresAt?: Date;
  /** Audit chain of the token this one was obtained from. */
  parentAuditIds?: string[];
}

/**
 * Trusts and application credentials restrict a token's roles; their managers plug in here
 * so the provider stays about tokens.
 */
export interface DelegationSupport {
  /** rolesUserId: whose current roles bound the token (the first trustor of a redelegation chain); default the trustor. */
  trust(trustId: string, now: Date): Promise<{ info: TrustInfo; projectId: string | null; roleIds: string[]; rolesUserId?: string } | null>;
  appCred(appCredId: string, now: Date): Promise<{ info: AppCredInfo; userId: string; projectId: string; roleIds: string[] } | null>;
}

interface CacheEntry {
  data: TokenData;
  cachedAt: number;
}

/** Issues Fernet tokens and turns them back into TokenData (with revocation and liveness checks). */
export class TokenProvider implements TokenValidator {
  private readonly cache = new Map<string, CacheEntry>();
  delegation: DelegationSupport | null = null;

  constructor(
    private readonly core: IdentityCore,
    private readonly formatter: FernetTokenFormatter,
    private readonly resource: ResourceManager,
    private readonly users: UserManager,
    private readonly assignments: AssignmentManager,
    private readonly revocations: RevocationManager,
  ) {}

  clearCache(): void {
    this.cache.clear();
  }

  async issue(request: IssueRequest): Promise<TokenData> {
    const now = this.core.clock.now();
    const expiresAt = request.expiresAt ?? new Date(now.getTime() + this.core.config.identity.token_expiration * 1000);
    const auditIds = [newAuditId(), ...(request.parentAuditIds ? [request.parentAuditIds[request.parentAuditIds.length - 1]] : [])];
    const payload: TokenPayload = {
      userId: request.userId,
      methods: request.methods,
      scope: toPayloadScope(request.scope),
      expiresAt,
      issuedAt: now,
      auditIds,
    };
    const token = this.formatter.issue(payload);
    const data = await this.materialize(token, { ...payload, issuedAt: new Date(Math.floor(now.getTime() / 1000) * 1000) }, true);
    return data;
  }

  /** Validates a subject token. 404 when invalid, expired or revoked (Keystone's TokenNotFound). */
  async validateData(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenData> {
    const cached = this.cache.get(token);
    const nowMs = this.core.clock.now().getTime();
    const ttl = this.core.config.identity.validation_cache_seconds * 1000;
    if (cached && nowMs - cached.cachedAt < ttl && (opts.allowExpired || cached.data.expiresAt.getTime() > nowMs)) {
      return cached.data;
    }
    let payload: TokenPayload;
    try {
      payload = this.formatter.validate(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw notFound('Failed to validate token');
      throw err;
    }
    const expiry = payload.expiresAt.getTime();
    const window = opts.allowExpired ? this.core.config.identity.allow_expired_window * 1000 : 0;
    if (expiry + window <= nowMs) throw notFound('The request you have made requires authentication.');
    const data = await this.materialize(token, payload, false);
    if (expiry > nowMs && ttl > 0) {
      if (this.cache.size > 50_000) this.cache.clear();
      this.cache.set(token, { data, cachedAt: nowMs });
    }
    return data;
  }

  /** The TokenValidator other services use: every failure is a 401. */
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<AuthContext> {
    try {
      return toAuthContext(await this.validateData(token, opts));
    } catch (err) {
      if (err instanceof CloudError && (err.kind === 'not_found' || err.kind === 'unauthorized')) throw unauthorized();
      throw err;
    }
  }

  async revokeToken(data: TokenData): Promise<void> {
    await this.revocations.revoke({ audit_id: data.auditIds[0] });
  }

  /** Loads the entities a payload names and checks they still allow the token. */
  private async materialize(token: string, payload: TokenPayload, fresh: boolean): Promise<TokenData> {
    const invalid = () => (fresh ? unauthorized() : notFound('Failed to validate token'));
    // Every query here runs on each token issue and uncached validation: load each row once.
    const userRow = await this.users.findRow(payload.userId);
    if (!userRow || userRow.enabled !== 1) throw invalid();
    const user = userFromRow(userRow, (await this.users.currentPassword(payload.userId))?.expires_at ?? null);
    const userDomain = await this.resource.findProjectRow(user.domainId);
    if (!userDomain || userDomain.enabled !== 1) throw invalid();

    const data: TokenData = {
      token,
      user: { ...user, domainName: userDomain.name },
      methods: payload.methods,
      auditIds: payload.auditIds,
      issuedAt: payload.issuedAt,
      expiresAt: payload.expiresAt,
      roles: [],
      isAdminProject: true,
    };
    const scope = payload.scope;
    const now = this.core.clock.now();
    let roleIds: string[] | null = null;
    let roleUserId = payload.userId;

    if (scope.kind === 'trust') {
      const trust = this.delegation ? await this.delegation.trust(scope.trustId, now) : null;
      if (!trust) throw invalid();
      data.trust = trust.info;
      roleIds = trust.roleIds;
      // Roles come from the trustor: the trustee acts with what the trustor delegated.
      roleUserId = trust.rolesUserId ?? trust.info.trustorUserId;
    }
    if (scope.kind === 'app_cred') {
      const appCred = this.delegation ? await this.delegation.appCred(scope.appCredId, now) : null;
      if (!appCred || appCred.userId !== payload.userId) throw invalid();
      data.appCred = appCred.info;
      roleIds = appCred.roleIds;
    }

    if (scope.kind === 'project' || scope.kind === 'trust' || scope.kind === 'app_cred') {
      const projectId = scope.projectId;
      const row = projectId ? await this.resource.findProjectRow(projectId) : undefined;
      if (projectId) {
        if (!row || row.enabled !== 1 || row.is_domain === 1) throw invalid();
        const domainRow = row.domain_id === userDomain.id ? userDomain : await this.resource.findProjectRow(row.domain_id);
        if (!domainRow || domainRow.enabled !== 1) throw invalid();
        // Tokens don't show tags, so the row is enough.
        data.project = { ...projectFromRow(row), domainName: domainRow.name };
        const held = await this.assignments.effectiveRoles(roleUserId, { kind: 'project', projectId });
        data.roles = roleIds ? held.filter((r) => (roleIds as string[]).includes(r.id)) : held;
        if (data.roles.length === 0) throw invalid();
      }
    } else if (scope.kind === 'domain') {
      const row = await this.resource.findProjectRow(scope.domainId);
      if (!row || row.enabled !== 1 || row.is_domain !== 1) throw invalid();
      data.domain = domainFromProject(projectFromRow(row));
      data.roles = await this.assignments.effectiveRoles(payload.userId, { kind: 'domain', domainId: scope.domainId });
      if (data.roles.length === 0) throw invalid();
    } else if (scope.kind === 'system') {
      data.system = 'all';
      data.roles = await this.assignments.effectiveRoles(payload.userId, { kind: 'system' });
      if (data.roles.length === 0) throw invalid();
    }

    // Keystone never checks revocation events when minting: a token issued in the same second as a
    // user's revocation is still handed out (Tempest test_password_history_not_enforced_in_admin_reset).
    const revoked = !fresh && (await this.revocations.isRevoked({
      userId: payload.userId,
      projectId: data.project?.id,
      domainIds: [data.domain?.id, data.user.domainId, data.project?.domainId].filter((d): d is string => Boolean(d)),
      trustId: data.trust?.id,
      trustorId: data.trust?.trustorUserId,
      trusteeId: data.trust?.trusteeUserId,
      appCredId: data.appCred?.id,
      auditIds: payload.auditIds,
      issuedAt: payload.issuedAt,
    }));
    if (revoked) throw invalid();
    return data;
  }
}

function toPayloadScope(scope: IssueScope): TokenScope {
  switch (scope.kind) {
    case 'unscoped':
      return { kind: 'unscoped' };
    case 'project':
      return { kind: 'project', projectId: scope.projectId };
    case 'domain':
      return { kind: 'domain', domainId: scope.domainId };
    case 'system':
      return { kind: 'system', system: 'all' };
    case 'trust':
      return { kind: 'trust', projectId: scope.projectId ?? '', trustId: scope.trustId };
    case 'app_cred':
      return { kind: 'app_cred', projectId: scope.projectId, appCredId: scope.appCredId };
  }
}

export function toAuthContext(data: TokenData): AuthContext {
  return {
    token: data.token,
    user: { id: data.user.id, name: data.user.name, domain: { id: data.user.domainId, name: data.user.domainName } },
    project: data.project ? { id: data.project.id, name: data.project.name, domain: { id: data.project.domainId, name: data.project.domainName } } : undefined,
    domain: data.domain ? { id: data.domain.id, name: data.domain.name } : undefined,
    system: data.system,
    roles: data.roles.map((r) => ({ id: r.id, name: r.name })),
    methods: data.methods,
    auditIds: data.auditIds,
    issuedAt: data.issuedAt,
    expiresAt: data.expiresAt,
    isAdminProject: data.isAdminProject,
    trustId: data.trust?.id,
    appCredId: data.appCred?.id,
  };
}
