import type { RuleDefault } from '../../common/policy/index.js';

const rule = (name: string, checkStr: string, description?: string): RuleDefault => ({ name, checkStr, description });

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

  rule('identity:get_limit', ''),
  rule('identity:list_limits', ''),
  rule('identity:get_registered_limit', ''),
  rule('identity:list_registered_limits', ''),
  rule('identity:get_limit_model', ''),

  rule('identity:get_auth_catalog', ''),
  rule('identity:get_auth_projects', ''),
  rule('identity:get_auth_domains', ''),
  rule('identity:get_auth_system', ''),
];
