import { ruleDefault, type RuleDefault } from '../../common/policy/index.js';

const rule = ruleDefault;

const SYSTEM_READER = 'role:reader and system_scope:all';
const ADMIN_OR_SYSTEM_READER = `rule:admin_required or (${SYSTEM_READER})`;
/** Keystone's grant.py: a domain reader/admin acting on users or groups and scopes of their domain. */
const GRANTS_DOMAIN = (role: string): string =>
  [
    `(role:${role} and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s)`,
    `(role:${role} and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s)`,
    `(role:${role} and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s)`,
    `(role:${role} and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)`,
  ].join(' or ');
const DOMAIN_MATCHES_ROLE = 'domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s';
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER =
  `(rule:admin_required) or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s and not None:%(target.domain_id)s)`;

/**
 * Keystone's defaults as they behave with enforce_scope=False (Zed's shipped mode):
 * an admin anywhere may do anything; everyone else may act on what they own.
 * Rules absent here fall back to `default`, which is admin-only.
 */
export const IDENTITY_POLICIES: RuleDefault[] = [
  rule('admin_required', 'role:admin or is_admin:1'),
  rule('service_role', 'role:service'),
  rule('service_or_admin', 'rule:admin_required or rule:service_role'),
  rule('owner', 'user_id:%(user_id)s'),
  rule('admin_or_owner', 'rule:admin_required or rule:owner'),
  rule('token_subject', 'user_id:%(target.token.user_id)s'),
  rule('admin_or_token_subject', 'rule:admin_required or rule:token_subject'),
  rule('service_admin_or_token_subject', 'rule:service_or_admin or rule:token_subject'),
  rule('default', 'rule:admin_required', 'Any identity rule not listed is admin-only.'),

  rule('identity:validate_token', 'rule:service_admin_or_token_subject', 'GET/HEAD /v3/auth/tokens'),
  rule('identity:check_token', 'rule:service_admin_or_token_subject'),
  rule('identity:revoke_token', 'rule:admin_or_token_subject', 'DELETE /v3/auth/tokens'),

  rule('identity:get_user', 'rule:admin_required or user_id:%(target.user.id)s'),
  rule('identity:update_user', 'rule:admin_required'),
  rule('identity:change_password', 'user_id:%(user_id)s', 'POST /v3/users/{user_id}/password: only the user themselves'),
  rule('identity:list_user_projects', 'rule:admin_or_owner'),
  rule('identity:list_groups_for_user', 'rule:admin_or_owner'),

  rule('identity:get_project', 'rule:admin_required or project_id:%(target.project.id)s'),
  rule('identity:list_project_tags', 'rule:admin_required or project_id:%(target.project.id)s'),
  rule('identity:get_project_tag', 'rule:admin_required or project_id:%(target.project.id)s'),
  rule('identity:get_domain', 'rule:admin_required or token.project.domain.id:%(target.domain.id)s or domain_id:%(target.domain.id)s'),
  rule('identity:get_security_compliance_domain_config', '', 'GET /v3/domains/{domain_id}/config/security_compliance: password rules anyone may read'),

  rule('identity:get_region', ''),
  rule('identity:list_regions', ''),

  rule('identity:get_credential', 'rule:admin_required or user_id:%(target.credential.user_id)s'),
  rule('identity:list_credentials', 'rule:admin_required or user_id:%(target.credential.user_id)s'),
  rule('identity:create_credential', 'rule:admin_required or user_id:%(target.credential.user_id)s'),
  rule('identity:update_credential', 'rule:admin_required or user_id:%(target.credential.user_id)s'),
  rule('identity:delete_credential', 'rule:admin_required or user_id:%(target.credential.user_id)s'),
  rule('identity:ec2_get_credential', 'rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)'),
  rule('identity:ec2_list_credentials', 'rule:admin_or_owner'),
  rule('identity:ec2_create_credential', 'rule:admin_or_owner'),
  rule('identity:ec2tokens_validate', 'rule:service_or_admin', 'POST /v3/ec2tokens (services and admins only, as after OSSA-2025-002)'),
  rule('identity:s3tokens_validate', 'rule:service_or_admin', 'POST /v3/s3tokens'),
  rule('identity:ec2_delete_credential', 'rule:admin_required or (rule:owner and user_id:%(target.credential.user_id)s)'),

  rule('identity:get_application_credential', 'rule:admin_or_owner'),
  rule('identity:list_application_credentials', 'rule:admin_or_owner'),
  rule('identity:create_application_credential', 'rule:owner'),
  rule('identity:delete_application_credential', 'rule:admin_or_owner'),
  rule('identity:get_access_rule', 'rule:admin_or_owner'),
  rule('identity:list_access_rules', 'rule:admin_or_owner'),
  rule('identity:delete_access_rule', 'rule:admin_or_owner'),

  rule('identity:create_trust', 'user_id:%(trust.trustor_user_id)s'),
  rule('identity:list_trusts', ''),
  rule('identity:list_trusts_for_trustor', 'rule:admin_required or user_id:%(target.trust.trustor_user_id)s'),
  rule('identity:list_trusts_for_trustee', 'rule:admin_required or user_id:%(target.trust.trustee_user_id)s'),
  rule('identity:get_trust', 'rule:admin_required or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s'),
  rule('identity:delete_trust', 'rule:admin_required or user_id:%(target.trust.trustor_user_id)s'),
  rule('identity:list_roles_for_trust', 'rule:admin_required or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s'),
  rule('identity:get_role_for_trust', 'rule:admin_required or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s'),

  rule(
    'identity:get_limit',
    'rule:admin_required or (role:reader and system_scope:all) or (domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)',
  ),
  rule('identity:list_limits', ''),
  rule('identity:get_registered_limit', ''),
  rule('identity:list_registered_limits', ''),
  rule('identity:get_limit_model', ''),

  // Roles, implied roles, grants and role assignments (Keystone Zed; readers are system-scoped).
  rule('identity:get_role', ADMIN_OR_SYSTEM_READER),
  rule('identity:list_roles', ADMIN_OR_SYSTEM_READER),
  rule('identity:create_role', 'rule:admin_required'),
  rule('identity:update_role', 'rule:admin_required'),
  rule('identity:delete_role', 'rule:admin_required'),
  rule('identity:get_domain_role', ADMIN_OR_SYSTEM_READER),
  rule('identity:list_domain_roles', ADMIN_OR_SYSTEM_READER),
  rule('identity:create_domain_role', 'rule:admin_required'),
  rule('identity:update_domain_role', 'rule:admin_required'),
  rule('identity:delete_domain_role', 'rule:admin_required'),
  rule('identity:get_implied_role', ADMIN_OR_SYSTEM_READER),
  rule('identity:list_implied_roles', ADMIN_OR_SYSTEM_READER),
  rule('identity:list_role_inference_rules', ADMIN_OR_SYSTEM_READER),
  rule('identity:check_implied_role', ADMIN_OR_SYSTEM_READER),
  rule('identity:create_implied_role', 'rule:admin_required'),
  rule('identity:delete_implied_role', 'rule:admin_required'),
  rule('identity:check_grant', `(rule:admin_required) or ((${SYSTEM_READER}) or (${GRANTS_DOMAIN('reader')}) and (${DOMAIN_MATCHES_ROLE}))`),
  rule('identity:list_grants', `(rule:admin_required) or ((${SYSTEM_READER}) or ${GRANTS_DOMAIN('reader')})`),
  rule('identity:create_grant', `(rule:admin_required) or (${GRANTS_DOMAIN('admin')}) and (${DOMAIN_MATCHES_ROLE})`),
  rule('identity:revoke_grant', `(rule:admin_required) or (${GRANTS_DOMAIN('admin')}) and (${DOMAIN_MATCHES_ROLE})`),
  rule('identity:list_system_grants_for_user', ADMIN_OR_SYSTEM_READER),
  rule('identity:check_system_grant_for_user', ADMIN_OR_SYSTEM_READER),
  rule('identity:create_system_grant_for_user', 'rule:admin_required'),
  rule('identity:revoke_system_grant_for_user', 'rule:admin_required'),
  rule('identity:list_system_grants_for_group', ADMIN_OR_SYSTEM_READER),
  rule('identity:check_system_grant_for_group', ADMIN_OR_SYSTEM_READER),
  rule('identity:create_system_grant_for_group', 'rule:admin_required'),
  rule('identity:revoke_system_grant_for_group', 'rule:admin_required'),
  rule('identity:list_role_assignments', ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER),
  rule('identity:list_role_assignments_for_tree', ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER),

  rule('identity:get_auth_catalog', ''),
  rule('identity:get_auth_projects', ''),
  rule('identity:get_auth_domains', ''),
  rule('identity:get_auth_system', ''),
];
