import type { Kysely, Migration } from 'kysely';

/** Resource types every Glance database starts with (its metadefs migration seeds them as protected). */
export const SEEDED_RESOURCE_TYPES = ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server'];

/**
 * Metadata definitions (Glance's metadef_* tables): namespaces own objects, properties and tags
 * (deleted with them); resource types are global and associated with namespaces.
 * Property and object schemas are JSON text, as Glance stores them.
 */
export const metadefs: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('image_metadef_namespaces')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('namespace', 'varchar(80)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(80)')
      .addColumn('description', 'text')
      .addColumn('visibility', 'varchar(32)', (c) => c.notNull())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owner', 'varchar(255)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();

    for (const table of ['image_metadef_objects', 'image_metadef_properties', 'image_metadef_tags'] as const) {
      let builder = db.schema
        .createTable(table)
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull().references('image_metadef_namespaces.id').onDelete('cascade'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull());
      if (table === 'image_metadef_objects') builder = builder.addColumn('description', 'text').addColumn('required', 'text');
      if (table !== 'image_metadef_tags') builder = builder.addColumn('json_schema', 'text', (c) => c.notNull().defaultTo('{}'));
      await builder
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addUniqueConstraint(`${table}_name`, ['namespace_id', 'name'])
        .execute();
    }

    await db.schema
      .createTable('image_metadef_resource_types')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(80)', (c) => c.notNull().unique())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('image_metadef_namespace_resource_types')
      .addColumn('namespace_id', 'varchar(36)', (c) => c.notNull().references('image_metadef_namespaces.id').onDelete('cascade'))
      .addColumn('resource_type_id', 'varchar(36)', (c) => c.notNull().references('image_metadef_resource_types.id'))
      .addColumn('properties_target', 'varchar(80)')
      .addColumn('prefix', 'varchar(80)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_metadef_ns_rt_pk', ['namespace_id', 'resource_type_id'])
      .execute();

    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    const typed = db as Kysely<{ image_metadef_resource_types: { id: string; name: string; protected: number; created_at: string; updated_at: string } }>;
    await typed
      .insertInto('image_metadef_resource_types')
      .values(SEEDED_RESOURCE_TYPES.map((name, i) => ({ id: `00000000-0000-4000-8000-00000000000${i + 1}`, name, protected: 1, created_at: now, updated_at: now })))
      .execute();
  },
};
