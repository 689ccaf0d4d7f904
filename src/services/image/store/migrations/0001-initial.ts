import type { Kysely, Migration } from 'kysely';

/** Images, their tags and members; timestamps are fixed-width ISO text, booleans 0/1. */
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('image_images')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)')
      .addColumn('status', 'varchar(30)', (c) => c.notNull())
      .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
      .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('owner', 'varchar(255)')
      .addColumn('checksum', 'varchar(32)')
      .addColumn('os_hash_algo', 'varchar(64)')
      .addColumn('os_hash_value', 'varchar(128)')
      .addColumn('size', 'bigint')
      .addColumn('virtual_size', 'bigint')
      .addColumn('disk_format', 'varchar(20)')
      .addColumn('container_format', 'varchar(20)')
      .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('location', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('image_images_owner').on('image_images').column('owner').execute();
    await db.schema.createIndex('image_images_created').on('image_images').columns(['created_at', 'id']).execute();

    await db.schema
      .createTable('image_tags')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image_images.id').onDelete('cascade'))
      .addColumn('tag', 'varchar(255)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_tags_pk', ['image_id', 'tag'])
      .execute();

    await db.schema
      .createTable('image_members')
      .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image_images.id').onDelete('cascade'))
      .addColumn('member_id', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('image_members_pk', ['image_id', 'member_id'])
      .execute();
    await db.schema.createIndex('image_members_member').on('image_members').column('member_id').execute();
  },
};
