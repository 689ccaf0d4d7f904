import type { Kysely, Migration } from 'kysely';

/**
 * Multi-store: the single `location` text (`<store>:<key>`) becomes `locations`, a JSON array
 * of Glance locations ({url, metadata: {store}}), one per store holding a copy. Old values are
 * kept as `file:<key>` URLs of store `file`, which the filesystem store still resolves.
 * Also the task records of interoperable import (GET /v2/tasks, /v2/images/{id}/tasks).
 */
export const locationsAndTasks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('image_images').addColumn('locations', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    const typed = db as Kysely<{ image_images: { id: string; location: string | null; locations: string } }>;
    const rows = await typed.selectFrom('image_images').select(['id', 'location']).where('location', 'is not', null).execute();
    for (const row of rows) {
      const [store = 'file', ...rest] = String(row.location).split(':');
      const locations = [{ url: `file:${rest.join(':')}`, metadata: { store } }];
      await typed.updateTable('image_images').set({ locations: JSON.stringify(locations) }).where('id', '=', row.id).execute();
    }
    await db.schema.alterTable('image_images').dropColumn('location').execute();

    await db.schema
      .createTable('image_tasks')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('type', 'varchar(30)', (c) => c.notNull())
      .addColumn('status', 'varchar(30)', (c) => c.notNull())
      .addColumn('owner', 'varchar(255)')
      .addColumn('image_id', 'varchar(36)')
      .addColumn('request_id', 'varchar(64)')
      .addColumn('user_id', 'varchar(64)')
      .addColumn('input', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('result', 'text')
      .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('expires_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('image_tasks_image').on('image_tasks').column('image_id').execute();
    await db.schema.createIndex('image_tasks_created').on('image_tasks').columns(['created_at', 'id']).execute();
  },
};
