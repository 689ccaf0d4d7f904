import type { Kysely } from 'kysely';
import type { Database, DbEngine } from '../../../common/db/index.js';
import { fromDbBool, toDbBool } from '../../../common/db/index.js';
import type { Image, ImageLocation, ImageMember, ImageStatus, MemberStatus, Visibility } from '../model/image.js';
import type { ImageMemberRow, ImageRow, ImageTables } from './tables.js';
import { selectImagePage, type ListSpec } from './list-query.js';

/** Queries over the image tables; no access rules here (service.ts applies Glance's). */
export class ImageRepository {
  private readonly db: Kysely<ImageTables>;
  private readonly engine: DbEngine;

  constructor(database: Database) {
    this.db = database.typed<ImageTables>();
    this.engine = database.engine;
  }

  async insert(image: Image): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('image_images').values(toRow(image)).execute();
      if (image.tags.length) await trx.insertInto('image_tags').values(image.tags.map((tag) => ({ image_id: image.id, tag }))).execute();
    });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.db.selectFrom('image_images').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async find(id: string): Promise<Image | null> {
    const row = await this.db.selectFrom('image_images').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const tags = await this.db.selectFrom('image_tags').select('tag').where('image_id', '=', id).orderBy('tag').execute();
    return fromRow(row, tags.map((t) => t.tag));
  }

  /** One page of GET /v2/images, filtered, ordered and cut in SQL (see list-query.ts), with tags. */
  async list(spec: ListSpec): Promise<Image[]> {
    const rows = await selectImagePage(this.db, this.engine, spec);
    if (!rows.length) return [];
    const tagRows = await this.db.selectFrom('image_tags').select(['image_id', 'tag']).where('image_id', 'in', rows.map((r) => r.id)).orderBy('tag').execute();
    const tags = new Map<string, string[]>();
    for (const t of tagRows) tags.set(t.image_id, [...(tags.get(t.image_id) ?? []), t.tag]);
    return rows.map((row) => fromRow(row, tags.get(row.id) ?? []));
  }

  /** Writes the changed core fields, properties and tags; returns false when the row is gone. */
  async update(image: Image, opts: { tags?: boolean; data?: boolean } = {}): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const { id, status, size, virtual_size, checksum, os_hash_algo, os_hash_value, locations, ...values } = toRow(image);
      // Status, data and os_glance_* import bookkeeping belong to uploads and import jobs running
      // concurrently: a metadata PATCH writes them only when asked (`data`), and keeps the
      // stored os_glance_* properties instead of the ones it read before.
      let current = trx.selectFrom('image_images').select('properties').where('id', '=', id);
      if (this.engine === 'postgres') current = current.forUpdate();
      const row = await current.executeTakeFirst();
      if (!row) return false;
      const stored = JSON.parse(row.properties) as Record<string, string>;
      const properties = Object.fromEntries(Object.entries(image.properties).filter(([key]) => !key.startsWith('os_glance')));
      for (const [key, value] of Object.entries(stored)) if (key.startsWith('os_glance')) properties[key] = value;
      const dataValues = opts.data ? { status, size, virtual_size, checksum, os_hash_algo, os_hash_value, locations } : {};
      const result = await trx.updateTable('image_images').set({ ...values, ...dataValues, properties: JSON.stringify(properties) }).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      if (opts.tags) {
        await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
        if (image.tags.length) await trx.insertInto('image_tags').values(image.tags.map((tag) => ({ image_id: id, tag }))).execute();
      }
      return true;
    });
  }

  /** Compare-and-set of the status (and any other columns): the guard of every lifecycle transition. */
  async transition(id: string, from: readonly ImageStatus[], values: Partial<Omit<ImageRow, 'id'>>): Promise<boolean> {
    const result = await this.db.updateTable('image_images').set(values).where('id', '=', id).where('status', 'in', [...from]).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('image_tags').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_members').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_images').where('id', '=', id).execute();
    });
  }

  async addTag(id: string, tag: string): Promise<void> {
    const existing = await this.db.selectFrom('image_tags').select('tag').where('image_id', '=', id).where('tag', '=', tag).executeTakeFirst();
    if (!existing) await this.db.insertInto('image_tags').values({ image_id: id, tag }).execute();
  }

  async removeTag(id: string, tag: string): Promise<boolean> {
    const result = await this.db.deleteFrom('image_tags').where('image_id', '=', id).where('tag', '=', tag).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async touch(id: string, updatedAt: string): Promise<void> {
    await this.db.updateTable('image_images').set({ updated_at: updatedAt }).where('id', '=', id).execute();
  }

  async members(imageId: string): Promise<ImageMember[]> {
    const rows = await this.db.selectFrom('image_members').selectAll().where('image_id', '=', imageId).orderBy('created_at').orderBy('member_id').execute();
    return rows.map(memberFromRow);
  }

  async member(imageId: string, memberId: string): Promise<ImageMember | null> {
    const row = await this.db.selectFrom('image_members').selectAll().where('image_id', '=', imageId).where('member_id', '=', memberId).executeTakeFirst();
    return row ? memberFromRow(row) : null;
  }

  async insertMember(member: ImageMember): Promise<void> {
    await this.db.insertInto('image_members').values(memberToRow(member)).execute();
  }

  async updateMember(member: ImageMember): Promise<void> {
    await this.db.updateTable('image_members').set({ status: member.status, updated_at: member.updatedAt }).where('image_id', '=', member.imageId).where('member_id', '=', member.memberId).execute();
  }

  async deleteMember(imageId: string, memberId: string): Promise<void> {
    await this.db.deleteFrom('image_members').where('image_id', '=', imageId).where('member_id', '=', memberId).execute();
  }

  /** Bytes of active image data a project stores, for user_storage_quota. */
  async usedBytes(owner: string): Promise<number> {
    const row = await this.db.selectFrom('image_images').select((eb) => eb.fn.sum<number | string | null>('size').as('total')).where('owner', '=', owner).executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** Every location an image row still references (the data reaper keeps those). */
  async referencedLocations(): Promise<ImageLocation[]> {
    const rows = await this.db.selectFrom('image_images').select('locations').where('locations', '!=', '[]').execute();
    return rows.flatMap((r) => JSON.parse(r.locations) as ImageLocation[]);
  }

  async idsInStatus(status: ImageStatus): Promise<string[]> {
    return (await this.db.selectFrom('image_images').select('id').where('status', '=', status).execute()).map((r) => r.id);
  }
}

function toRow(image: Image): ImageRow {
  return {
    id: image.id,
    name: image.name,
    status: image.status,
    visibility: image.visibility,
    protected: toDbBool(image.protected),
    os_hidden: toDbBool(image.osHidden),
    owner: image.owner,
    checksum: image.checksum,
    os_hash_algo: image.osHashAlgo,
    os_hash_value: image.osHashValue,
    size: image.size,
    virtual_size: image.virtualSize,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    min_disk: image.minDisk,
    min_ram: image.minRam,
    properties: JSON.stringify(image.properties),
    locations: JSON.stringify(image.locations),
    created_at: image.createdAt,
    updated_at: image.updatedAt,
  };
}

function fromRow(row: ImageRow, tags: string[]): Image {
  return {
    id: row.id,
    name: row.name,
    status: row.status as ImageStatus,
    visibility: row.visibility as Visibility,
    protected: fromDbBool(row.protected),
    osHidden: fromDbBool(row.os_hidden),
    owner: row.owner,
    checksum: row.checksum,
    osHashAlgo: row.os_hash_algo,
    osHashValue: row.os_hash_value,
    size: row.size === null ? null : Number(row.size),
    virtualSize: row.virtual_size === null ? null : Number(row.virtual_size),
    diskFormat: row.disk_format,
    containerFormat: row.container_format,
    minDisk: row.min_disk,
    minRam: row.min_ram,
    properties: JSON.parse(row.properties) as Record<string, string>,
    locations: JSON.parse(row.locations) as ImageLocation[],
    tags,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function memberFromRow(row: ImageMemberRow): ImageMember {
  return { imageId: row.image_id, memberId: row.member_id, status: row.status as MemberStatus, createdAt: row.created_at, updatedAt: row.updated_at };
}

function memberToRow(m: ImageMember): ImageMemberRow {
  return { image_id: m.imageId, member_id: m.memberId, status: m.status, created_at: m.createdAt, updated_at: m.updatedAt };
}
