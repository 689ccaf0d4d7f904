import type { Kysely, Migration } from 'kysely';

/**
 * Indexes of GET /v2/images, which filters, orders and pages in SQL (store/list-query.ts):
 * name equality, the updated_at order (created_at has its index since 0001), checksum and
 * os_hash_value lookups as Glance indexes them, and tags found by value.
 */
export const listIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('image_images_name').on('image_images').column('name').execute();
    await db.schema.createIndex('image_images_updated').on('image_images').columns(['updated_at', 'id']).execute();
    await db.schema.createIndex('image_images_checksum').on('image_images').column('checksum').execute();
    await db.schema.createIndex('image_images_os_hash_value').on('image_images').column('os_hash_value').execute();
    await db.schema.createIndex('image_tags_tag').on('image_tags').columns(['tag', 'image_id']).execute();
  },
};
