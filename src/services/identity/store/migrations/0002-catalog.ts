import type { Kysely, Migration } from 'kysely';

/**
 * OS-EP-FILTER associations: which endpoints (directly, or through an endpoint group's
 * filters) a project's catalog is restricted to. A project with no association sees all.
 */
export const catalog: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('identity_project_endpoints')
      .addColumn('endpoint_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_endpoints_pk', ['endpoint_id', 'project_id'])
      .execute();
    await db.schema.createIndex('identity_project_endpoints_project').on('identity_project_endpoints').column('project_id').execute();

    await db.schema
      .createTable('identity_project_endpoint_groups')
      .addColumn('endpoint_group_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_project_endpoint_groups_pk', ['endpoint_group_id', 'project_id'])
      .execute();
    await db.schema.createIndex('identity_project_endpoint_groups_project').on('identity_project_endpoint_groups').column('project_id').execute();
  },
};
