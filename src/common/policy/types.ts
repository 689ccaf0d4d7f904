/** Scopes a token can carry, as named by oslo.policy's `scope_types`. */
export type ScopeType = 'system' | 'domain' | 'project';

/** Credentials of the caller, built from the validated token. */
export interface PolicyCredentials {
  user_id?: string;
  user_domain_id?: string;
  project_id?: string;
  project_domain_id?: string;
  /** Set for domain-scoped tokens. */
  domain_id?: string;
  /** 'all' for system-scoped tokens. */
  system_scope?: string;
  /** Effective role names (implied roles already expanded); `role:` compares them case-insensitively. */
  roles: string[];
  is_admin_project?: boolean;
  trust_id?: string;
  [key: string]: unknown;
}

/**
 * What the caller acts on. Keys may be flat and dotted ('target.user.domain_id', as Keystone
 * flattens them) or nested objects; rules find either.
 */
export type PolicyTarget = Record<string, unknown>;

/** A rule that a newer default replaces; see oslo.policy's DeprecatedRule. */
export interface DeprecatedRule {
  name: string;
  checkStr: string;
  reason?: string;
}

/** A default rule a service registers; operators may override its check string. */
export interface RuleDefault {
  name: string;
  checkStr: string;
  description?: string;
  scopeTypes?: ScopeType[];
  operations?: { path: string; method: string }[];
  /**
   * The rule this one replaces. While `enforceNewDefaults` is false the old check string keeps
   * granting access, and an operator's override of the old name carries over to this one.
   */
  deprecatedRule?: DeprecatedRule;
}

/** A default with only a name, a check string and a description, as most services declare them. */
export function ruleDefault(name: string, checkStr: string, description?: string): RuleDefault {
  return { name, checkStr, description };
}
