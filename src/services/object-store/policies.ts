import type { RuleDefault } from '../../common/policy/index.js';

/**
 * Swift does not use oslo.policy: keystoneauth decides from roles, project and ACLs
 * (api/access.ts, configured by object_store.operator_roles / reseller_admin_role).
 */
export const OBJECT_STORE_POLICIES: RuleDefault[] = [];
