import type { Kysely, Migration } from 'kysely';

/**
 * Keystone's data model, condensed: domains are projects with is_domain=1 (as in Keystone),
 * all ids are text, booleans 0/1 integers, timestamps ISO text, free-form extras JSON text.
 */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('identity_projects')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      // Domains carry the sentinel '<<keystone.domain.root>>' so (domain_id, name) stays unique for them too.
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('parent_id', 'varchar(64)')
      .addColumn('is_domain', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('identity_projects_domain_name', ['domain_id', 'name'])
      .execute();
    await db.schema.createIndex('identity_projects_parent').on('identity_projects').column('parent_id').execute();

    await db.schema
      .createTable('identity_project_tags')
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull().references('identity_projects.id').onDelete('cascade'))
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_tags_pk', ['project_id', 'name'])
      .execute();

    await db.schema
      .createTable('identity_users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('default_project_id', 'varchar(64)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('failed_auth_at', 'varchar(32)')
      .addColumn('last_active_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('identity_users_domain_name', ['domain_id', 'name'])
      .execute();

    // Password history: the newest row is the current password (Keystone's `password` table).
    await db.schema
      .createTable('identity_passwords')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('identity_users.id').onDelete('cascade'))
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)')
      .addColumn('self_service', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('identity_passwords_user').on('identity_passwords').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('identity_groups')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('identity_groups_domain_name', ['domain_id', 'name'])
      .execute();

    await db.schema
      .createTable('identity_group_members')
      .addColumn('group_id', 'varchar(64)', (c) => c.notNull().references('identity_groups.id').onDelete('cascade'))
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('identity_users.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('identity_group_members_pk', ['group_id', 'user_id'])
      .execute();
    await db.schema.createIndex('identity_group_members_user').on('identity_group_members').column('user_id').execute();

    await db.schema
      .createTable('identity_roles')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      // Global roles use the sentinel '<<null>>' (as Keystone does) so names stay unique per domain.
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addUniqueConstraint('identity_roles_domain_name', ['domain_id', 'name'])
      .execute();

    await db.schema
      .createTable('identity_implied_roles')
      .addColumn('prior_role_id', 'varchar(64)', (c) => c.notNull().references('identity_roles.id').onDelete('cascade'))
      .addColumn('implied_role_id', 'varchar(64)', (c) => c.notNull().references('identity_roles.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('identity_implied_roles_pk', ['prior_role_id', 'implied_role_id'])
      .execute();

    // type: UserProject | GroupProject | UserDomain | GroupDomain | UserSystem | GroupSystem
    await db.schema
      .createTable('identity_assignments')
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('actor_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('target_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('role_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('inherited', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('identity_assignments_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
      .execute();
    await db.schema.createIndex('identity_assignments_actor').on('identity_assignments').column('actor_id').execute();
    await db.schema.createIndex('identity_assignments_target').on('identity_assignments').column('target_id').execute();
    await db.schema.createIndex('identity_assignments_role').on('identity_assignments').column('role_id').execute();

    await db.schema
      .createTable('identity_regions')
      .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('parent_region_id', 'varchar(255)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await db.schema
      .createTable('identity_services')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await db.schema
      .createTable('identity_endpoints')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('service_id', 'varchar(64)', (c) => c.notNull().references('identity_services.id'))
      .addColumn('region_id', 'varchar(255)')
      .addColumn('interface', 'varchar(8)', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await db.schema
      .createTable('identity_endpoint_groups')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('filters', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('identity_credentials')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      // The blob is encrypted at rest (AES-GCM with a key in the data dir), as Keystone's credential provider does.
      .addColumn('encrypted_blob', 'text', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('identity_credentials_user').on('identity_credentials').column('user_id').execute();

    await db.schema
      .createTable('identity_app_creds')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('system', 'varchar(16)')
      .addColumn('expires_at', 'varchar(32)')
      .addColumn('unrestricted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addUniqueConstraint('identity_app_creds_user_name', ['user_id', 'name'])
      .execute();

    await db.schema
      .createTable('identity_app_cred_roles')
      .addColumn('app_cred_id', 'varchar(64)', (c) => c.notNull().references('identity_app_creds.id').onDelete('cascade'))
      .addColumn('role_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_app_cred_roles_pk', ['app_cred_id', 'role_id'])
      .execute();

    await db.schema
      .createTable('identity_access_rules')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('service', 'varchar(64)', (c) => c.notNull())
      .addColumn('path', 'varchar(128)', (c) => c.notNull())
      .addColumn('method', 'varchar(16)', (c) => c.notNull())
      .addUniqueConstraint('identity_access_rules_unique', ['user_id', 'service', 'path', 'method'])
      .execute();

    await db.schema
      .createTable('identity_app_cred_access_rules')
      .addColumn('app_cred_id', 'varchar(64)', (c) => c.notNull().references('identity_app_creds.id').onDelete('cascade'))
      .addColumn('access_rule_id', 'varchar(64)', (c) => c.notNull().references('identity_access_rules.id'))
      .addPrimaryKeyConstraint('identity_app_cred_access_rules_pk', ['app_cred_id', 'access_rule_id'])
      .execute();

    await db.schema
      .createTable('identity_trusts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('trustor_user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('trustee_user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('impersonation', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)')
      .addColumn('remaining_uses', 'integer')
      .addColumn('allow_redelegation', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('redelegation_count', 'integer')
      .addColumn('redelegated_trust_id', 'varchar(64)')
      .addColumn('deleted_at', 'varchar(32)')
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('identity_trust_roles')
      .addColumn('trust_id', 'varchar(64)', (c) => c.notNull().references('identity_trusts.id').onDelete('cascade'))
      .addColumn('role_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_trust_roles_pk', ['trust_id', 'role_id'])
      .execute();

    await db.schema
      .createTable('identity_registered_limits')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('service_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('region_id', 'varchar(255)')
      .addColumn('resource_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('default_limit', 'integer', (c) => c.notNull())
      .addColumn('description', 'text')
      .execute();

    await db.schema
      .createTable('identity_limits')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('project_id', 'varchar(64)')
      .addColumn('domain_id', 'varchar(64)')
      .addColumn('service_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('region_id', 'varchar(255)')
      .addColumn('resource_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('resource_limit', 'integer', (c) => c.notNull())
      .addColumn('description', 'text')
      .execute();

    // Revocation events, matched against token facts at validation time (Keystone's revoke model).
    await db.schema
      .createTable('identity_revocations')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('domain_id', 'varchar(64)')
      .addColumn('project_id', 'varchar(64)')
      .addColumn('user_id', 'varchar(64)')
      .addColumn('role_id', 'varchar(64)')
      .addColumn('trust_id', 'varchar(64)')
      .addColumn('app_cred_id', 'varchar(64)')
      .addColumn('audit_id', 'varchar(32)')
      .addColumn('audit_chain_id', 'varchar(32)')
      .addColumn('issued_before', 'varchar(32)', (c) => c.notNull())
      .addColumn('revoked_at', 'varchar(32)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('identity_policies')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('type', 'varchar(255)', (c) => c.notNull())
      .addColumn('blob', 'text', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await db.schema
      .createTable('identity_oauth_consumers')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('description', 'text')
      .addColumn('secret', 'varchar(64)', (c) => c.notNull())
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();

    await db.schema
      .createTable('identity_domain_configs')
      .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('group_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('option_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('sensitive', 'integer', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('identity_domain_configs_pk', ['domain_id', 'group_name', 'option_name'])
      .execute();
  },
};
