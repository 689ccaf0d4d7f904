import { badRequest, CloudError, forbidden, unauthorized } from '../../../common/errors.js';
import type { User } from '../model/types.js';
import type { IdentityCore } from './core.js';
import type { ResourceManager } from './resource.js';
import type { ProjectRow } from '../store/tables.js';
import type { AssignmentManager } from './assignments.js';
import { authenticatePassword, type UserManager } from './users.js';
import type { IssueScope, TokenData, TokenProvider } from './tokens.js';

/** The body of POST /v3/auth/tokens after schema validation (api/auth/schemas.ts). */
export interface AuthRequest {
  identity: {
    methods: string[];
    password?: { user: UserRef & { password: string } };
    token?: { id: string };
    application_credential?: { id?: string; name?: string; secret: string; user?: UserRef };
    totp?: unknown;
  };
  scope?: ScopeRef | 'unscoped';
}

export interface UserRef {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

export interface ScopeRef {
  project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  domain?: { id?: string; name?: string };
  system?: { all?: boolean };
  'OS-TRUST:trust'?: { id: string };
}

/** Resolved identity of an application credential; provided by the app-creds manager. */
export interface AppCredAuthenticator {
  /** expiresAt, when set, caps the token's lifetime (Keystone never lets a token outlive its credential). */
  authenticate(ref: NonNullable<AuthRequest['identity']['application_credential']>): Promise<{ userId: string; projectId: string; appCredId: string; expiresAt?: Date }>;
}
export interface TrustScoper {
  /** Checks the caller may use the trust and returns its project (null for project-less trusts). */
  scopeTo(trustId: string, callerUserId: string): Promise<{ projectId: string | null; impersonation: boolean; trustorUserId: string }>;
  /** Uses up one of a limited trust's uses; called only once the token was issued. */
  consume(trustId: string): Promise<void>;
}

/** Turns an authentication request into a new token (Keystone's auth controller). */
export class AuthManager {
  appCreds: AppCredAuthenticator | null = null;
  trusts: TrustScoper | null = null;
  /** Set by IdentityService; used to check the default project still grants a role. */
  assignments: Pick<AssignmentManager, 'effectiveRoles'> | null = null;

  constructor(
    private readonly core: IdentityCore,
    private readonly resource: ResourceManager,
    private readonly users: UserManager,
    private readonly tokens: TokenProvider,
  ) {}

  async authenticate(request: AuthRequest): Promise<TokenData> {
    const methods = request.identity.methods;
    if (methods.length === 0) throw badRequest('Invalid input for field \'identity/methods\': [] is too short');
    let userId: string | null = null;
    let parent: TokenData | null = null;
    let appCred: { userId: string; projectId: string; appCredId: string; expiresAt?: Date } | null = null;

    for (const method of methods) {
      let methodUser: string;
      if (method === 'password') {
        const ref = request.identity.password?.user;
        if (!ref) throw badRequest("Invalid input for field 'identity/password/user': is required");
        const user = await this.resolveUser(ref);
        await authenticatePassword(this.core, this.users, user, ref.password);
        methodUser = user.id;
      } else if (method === 'token') {
        const id = request.identity.token?.id;
        if (!id) throw badRequest("Invalid input for field 'identity/token/id': is required");
        try {
          parent = await this.tokens.validateData(id);
        } catch (err) {
          // Keystone answers 404 for a revoked or expired token here (Tempest test_user_update_own_password).
          if (err instanceof CloudError && err.kind === 'not_found') throw err;
          throw unauthorized();
        }
        methodUser = parent.user.id;
      } else if (method === 'application_credential') {
        const ref = request.identity.application_credential;
        if (!ref || !this.appCreds) throw unauthorized();
        appCred = await this.appCreds.authenticate(ref);
        methodUser = appCred.userId;
      } else {
        throw unauthorized(`Attempted to authenticate with an unsupported method.`);
      }
      if (userId && userId !== methodUser) throw unauthorized();
      userId = methodUser;
    }
    if (!userId) throw unauthorized();

    if (appCred) {
      if (request.scope && request.scope !== 'unscoped') {
        const wanted = await this.resolveScope(request.scope, userId);
        if (wanted.kind !== 'project' || wanted.projectId !== appCred.projectId) throw unauthorized('Application credentials cannot request a scope.');
      }
      const defaultExpiry = this.core.clock.now().getTime() + this.core.config.identity.token_expiration * 1000;
      const expiresAt = appCred.expiresAt && appCred.expiresAt.getTime() < defaultExpiry ? appCred.expiresAt : undefined;
      return this.tokens.issue({ userId, methods, scope: { kind: 'app_cred', projectId: appCred.projectId, appCredId: appCred.appCredId }, expiresAt });
    }

    if (parent) {
      if (parent.trust) throw forbidden('Re-scoping a trust-scoped token is not allowed.');
      if (parent.appCred) throw forbidden('Re-scoping an application credential token is not allowed.');
    }
    let scope: IssueScope;
    if (request.scope === 'unscoped') scope = { kind: 'unscoped' };
    else if (request.scope) scope = await this.resolveScope(request.scope, userId);
    else if (parent) scope = parentScope(parent);
    else scope = await this.defaultScope(userId);

    if (parent && !this.core.config.identity.allow_rescope_scoped_token && parentScope(parent).kind !== 'unscoped' && !sameScope(scope, parentScope(parent))) {
      throw forbidden('Rescoping a scoped token is not allowed.');
    }
    if (scope.kind === 'trust') {
      if (!this.trusts) throw unauthorized();
      const trust = await this.trusts.scopeTo(scope.trustId, userId);
      scope = { kind: 'trust', trustId: scope.trustId, projectId: trust.projectId };
      // Impersonating trusts issue the token as the trustor.
      if (trust.impersonation) userId = trust.trustorUserId;
    }
    // Keystone reports every method in the chain: a password token rescoped by token says both.
    const allMethods = parent ? [...new Set([...methods, ...parent.methods])] : methods;
    const issued = await this.tokens.issue({
      userId,
      methods: parent ? allMethods : methods,
      scope,
      expiresAt: parent?.expiresAt,
      parentAuditIds: parent?.auditIds,
    });
    // A trust use counts only once a token was actually issued from it (as in Keystone).
    if (scope.kind === 'trust' && this.trusts) await this.trusts.consume(scope.trustId);
    return issued;
  }

  private async resolveUser(ref: UserRef): Promise<User> {
    let user: User | undefined;
    if (ref.id) {
      const row = await this.users.findRow(ref.id);
      user = row ? await this.users.getUser(ref.id) : undefined;
    } else if (ref.name) {
      if (!ref.domain || (!ref.domain.id && !ref.domain.name)) throw badRequest('Expecting to find domain in user. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
      const domainId = await this.resolveDomainId(ref.domain, true);
      user = domainId ? await this.users.findByName(ref.name, domainId) : undefined;
    } else {
      throw badRequest('Expecting to find id or name in user.');
    }
    if (!user || !user.enabled) throw unauthorized();
    const domain = await this.resource.findProjectRow(user.domainId);
    if (!domain || domain.enabled !== 1) throw unauthorized();
    return user;
  }

  private async resolveDomainId(ref: { id?: string; name?: string }, forAuth: boolean): Promise<string | null> {
    if (ref.id) return ref.id;
    if (ref.name) {
      const domain = await this.resource.findDomainByName(ref.name);
      if (!domain) {
        if (forAuth) return null;
        throw unauthorized();
      }
      return domain.id;
    }
    throw badRequest('Expecting to find id or name in domain.');
  }

  private async resolveScope(ref: ScopeRef, userId: string): Promise<IssueScope> {
    const kinds = [ref.project, ref.domain, ref.system, ref['OS-TRUST:trust']].filter((x) => x !== undefined).length;
    if (kinds !== 1) throw badRequest('Specify exactly one of project, domain, system or trust scope.');
    if (ref.project) {
      let projectId: string | undefined = ref.project.id;
      let row: ProjectRow | undefined;
      if (!projectId) {
        if (!ref.project.name || !ref.project.domain) throw badRequest('Expecting to find domain in project.');
        const domainId = await this.resolveDomainId(ref.project.domain, false);
        row = domainId ? await this.resource.findProjectRowByName(ref.project.name, domainId) : undefined;
        if (!row) throw unauthorized();
        projectId = row.id;
      } else {
        row = await this.resource.findProjectRow(projectId);
      }
      if (!row || row.is_domain === 1) throw unauthorized(`Could not find project: ${projectId}.`);
      if (row.enabled !== 1) throw unauthorized(`Project is disabled: ${projectId}.`);
      return { kind: 'project', projectId };
    }
    if (ref.domain) {
      const domainId = await this.resolveDomainId(ref.domain, false);
      const row = domainId ? await this.resource.findProjectRow(domainId) : undefined;
      if (!row || row.is_domain !== 1) throw unauthorized(`Could not find domain: ${String(domainId)}.`);
      if (row.enabled !== 1) throw unauthorized(`Domain is disabled: ${String(domainId)}.`);
      return { kind: 'domain', domainId: row.id };
    }
    if (ref.system) {
      if (ref.system.all !== true) throw badRequest('Only system scope "all" is supported.');
      return { kind: 'system' };
    }
    const trust = ref['OS-TRUST:trust'] as { id: string };
    void userId;
    return { kind: 'trust', trustId: trust.id, projectId: null };
  }

  /** No scope requested: the user's default project when they still have a role on it, else unscoped. */
  private async defaultScope(userId: string): Promise<IssueScope> {
    const user = await this.users.getUser(userId);
    if (!user.defaultProjectId) return { kind: 'unscoped' };
    const row = await this.resource.findProjectRow(user.defaultProjectId);
    if (!row || row.enabled !== 1 || row.is_domain === 1) return { kind: 'unscoped' };
    // Keystone falls back to an unscoped token when the user holds no role on their default project.
    if (this.assignments && (await this.assignments.effectiveRoles(userId, { kind: 'project', projectId: row.id })).length === 0) {
      return { kind: 'unscoped' };
    }
    return { kind: 'project', projectId: row.id };
  }

}

function parentScope(parent: TokenData): IssueScope {
  if (parent.project) return { kind: 'project', projectId: parent.project.id };
  if (parent.domain) return { kind: 'domain', domainId: parent.domain.id };
  if (parent.system) return { kind: 'system' };
  return { kind: 'unscoped' };
}

function sameScope(a: IssueScope, b: IssueScope): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
