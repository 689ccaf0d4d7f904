/** Row shapes of the identity tables, as Kysely sees them (see migrations/0001-initial.ts). */
export interface ProjectRow {
  id: string;
  name: string;
  description: string | null;
  enabled: number;
  domain_id: string;
  parent_id: string | null;
  is_domain: number;
  extra: string;
  options: string;
  created_at: string;
}
export interface ProjectTagRow { project_id: string; name: string }
export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  default_project_id: string | null;
  extra: string;
  options: string;
  failed_auth_count: number;
  failed_auth_at: string | null;
  last_active_at: string | null;
  created_at: string;
}
export interface PasswordRow {
  id: string;
  user_id: string;
  password_hash: string;
  created_at: string;
  expires_at: string | null;
  self_service: number;
}
export interface GroupRow { id: string; name: string; domain_id: string; description: string | null; extra: string }
export interface GroupMemberRow { group_id: string; user_id: string }
export interface RoleRow { id: string; name: string; domain_id: string; description: string | null; options: string; extra: string }
export interface ImpliedRoleRow { prior_role_id: string; implied_role_id: string }
export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';
export interface AssignmentRow { type: AssignmentType; actor_id: string; target_id: string; role_id: string; inherited: number }
export interface RegionRow { id: string; description: string; parent_region_id: string | null; extra: string }
export interface ServiceRow { id: string; type: string; enabled: number; extra: string }
export interface EndpointRow { id: string; service_id: string; region_id: string | null; interface: string; url: string; enabled: number; extra: string }
export interface EndpointGroupRow { id: string; name: string; description: string | null; filters: string }
export interface ProjectEndpointRow { endpoint_id: string; project_id: string }
export interface ProjectEndpointGroupRow { endpoint_group_id: string; project_id: string }
export interface CredentialRow { id: string; user_id: string; project_id: string | null; type: string; encrypted_blob: string; extra: string; created_at: string }
export interface AppCredRow {
  id: string;
  name: string;
  secret_hash: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: string | null;
  unrestricted: number;
  created_at: string;
}
export interface AppCredRoleRow { app_cred_id: string; role_id: string }
export interface AccessRuleRow { id: string; user_id: string; service: string; path: string; method: string }
export interface AppCredAccessRuleRow { app_cred_id: string; access_rule_id: string }
export interface TrustRow {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  expires_at: string | null;
  remaining_uses: number | null;
  allow_redelegation: number;
  redelegation_count: number | null;
  redelegated_trust_id: string | null;
  deleted_at: string | null;
  extra: string;
  created_at: string;
}
export interface TrustRoleRow { trust_id: string; role_id: string }
export interface RegisteredLimitRow { id: string; service_id: string; region_id: string | null; resource_name: string; default_limit: number; description: string | null }
export interface LimitRow {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}
export interface RevocationRow {
  id: string;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  trust_id: string | null;
  app_cred_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: string;
  revoked_at: string;
}
export interface PolicyRow { id: string; type: string; blob: string; extra: string }
export interface OauthConsumerRow { id: string; description: string | null; secret: string; extra: string }
export interface DomainConfigRow { domain_id: string; group_name: string; option_name: string; value: string; sensitive: number }

export interface IdentityTables {
  identity_projects: ProjectRow;
  identity_project_tags: ProjectTagRow;
  identity_users: UserRow;
  identity_passwords: PasswordRow;
  identity_groups: GroupRow;
  identity_group_members: GroupMemberRow;
  identity_roles: RoleRow;
  identity_implied_roles: ImpliedRoleRow;
  identity_assignments: AssignmentRow;
  identity_regions: RegionRow;
  identity_services: ServiceRow;
  identity_endpoints: EndpointRow;
  identity_endpoint_groups: EndpointGroupRow;
  identity_project_endpoints: ProjectEndpointRow;
  identity_project_endpoint_groups: ProjectEndpointGroupRow;
  identity_credentials: CredentialRow;
  identity_app_creds: AppCredRow;
  identity_app_cred_roles: AppCredRoleRow;
  identity_access_rules: AccessRuleRow;
  identity_app_cred_access_rules: AppCredAccessRuleRow;
  identity_trusts: TrustRow;
  identity_trust_roles: TrustRoleRow;
  identity_registered_limits: RegisteredLimitRow;
  identity_limits: LimitRow;
  identity_revocations: RevocationRow;
  identity_policies: PolicyRow;
  identity_oauth_consumers: OauthConsumerRow;
  identity_domain_configs: DomainConfigRow;
}

export const DOMAIN_ROOT = '<<keystone.domain.root>>';
export const GLOBAL_ROLE_DOMAIN = '<<null>>';
export const DEFAULT_DOMAIN_ID = 'default';

export function parseJson(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
