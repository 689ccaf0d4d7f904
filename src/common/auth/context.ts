import type { PolicyCredentials } from '../policy/index.js';

export interface NamedRef {
  id: string;
  name: string;
}

/**
 * What a validated token says about the caller — the same facts keystonemiddleware
 * hands a remote service. Services depend only on this, never on identity internals.
 */
export interface AuthContext {
  token: string;
  user: NamedRef & { domain: NamedRef };
  /** Exactly one of project/domain/system is set for a scoped token; none for unscoped. */
  project?: NamedRef & { domain: NamedRef };
  domain?: NamedRef;
  system?: 'all';
  /** Effective roles (implied roles expanded). */
  roles: NamedRef[];
  methods: string[];
  auditIds: string[];
  issuedAt: Date;
  expiresAt: Date;
  isAdminProject: boolean;
  trustId?: string;
  appCredId?: string;
}

/**
 * An EC2/S3 credential resolved for an in-process S3 API (what Keystone's s3token middleware
 * fetches with secret caching): the secret to check signatures with, and who the key acts as.
 */
export interface Ec2Secret {
  userId: string;
  projectId: string;
  /** Role names the user has on the project (implied roles expanded). */
  roles: string[];
  secret: string;
}

export interface Ec2SecretResolver {
  /** null when the key is unknown, or its user, project or domain is disabled, or the user has no role there. */
  ec2Secret(access: string): Promise<Ec2Secret | null>;
}

/**
 * Keystone's unified limits as a service reads them (what oslo.limit fetches from GET /v3/limits
 * and /v3/registered_limits for the service's own catalog entry and region).
 */
export interface LimitReader {
  /**
   * The limit of each named resource for a project of the service of `serviceType`: the project's
   * limit, else the registered (default) limit. Resources with neither are left out.
   */
  projectLimits(serviceType: string, projectId: string, resourceNames: readonly string[]): Promise<Record<string, number>>;
}

export interface TokenValidator {
  /** Resolves the context for a token or throws CloudError('unauthorized'). */
  validate(token: string, opts?: { allowExpired?: boolean }): Promise<AuthContext>;
}

export function roleNames(ctx: AuthContext): string[] {
  return ctx.roles.map((r) => r.name);
}

/** Policy credentials in the shape oslo.policy rules expect. */
export function policyCredentials(ctx: AuthContext | undefined): PolicyCredentials {
  if (!ctx) return { roles: [] };
  return {
    user_id: ctx.user.id,
    user_domain_id: ctx.user.domain.id,
    project_id: ctx.project?.id,
    project_domain_id: ctx.project?.domain.id,
    domain_id: ctx.domain?.id,
    system_scope: ctx.system,
    roles: roleNames(ctx),
    is_admin_project: ctx.isAdminProject,
    trust_id: ctx.trustId,
  };
}
