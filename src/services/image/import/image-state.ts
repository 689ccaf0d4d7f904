import type { Kysely } from 'kysely';
import type { Database, DbEngine } from '../../../common/db/index.js';
import type { ImageLocation, ImageStatus } from '../model/image.js';
import type { ImageTables } from '../store/tables.js';

export const IMPORT_TASK = 'os_glance_import_task';
export const IMPORTING_STORES = 'os_glance_importing_to_stores';
export const FAILED_STORES = 'os_glance_failed_import';
export const STAGE_HOST = 'os_glance_stage_host';

/** A reason to stop an import that is not the fault of one store. */
export class ImportAbort extends Error {
  override readonly name = 'ImportAbort';
}

/** The parts of an image row an import changes, decoded. */
export interface ImportView {
  id: string;
  status: ImageStatus;
  owner: string | null;
  size: number | null;
  checksum: string | null;
  diskFormat: string | null;
  containerFormat: string | null;
  properties: Record<string, string>;
  locations: ImageLocation[];
}

/** What a mutation writes back; omitted fields stay as they are. */
export interface ImportChange {
  status?: ImageStatus;
  properties?: Record<string, string>;
  locations?: ImageLocation[];
  size?: number | null;
  virtualSize?: number | null;
  checksum?: string | null;
  osHashAlgo?: string | null;
  osHashValue?: string | null;
  diskFormat?: string | null;
  containerFormat?: string | null;
}

/**
 * Read-modify-write of image rows for imports, each in one transaction holding the row (FOR
 * UPDATE on PostgreSQL; SQLite has one writer): the import lock, the os_glance_* store lists,
 * status and locations change together, never over a concurrent change.
 */
export class ImportState {
  private readonly db: Kysely<ImageTables>;
  private readonly engine: DbEngine;

  constructor(database: Database, private readonly now: () => string) {
    this.db = database.typed<ImageTables>();
    this.engine = database.engine;
  }

  async read(id: string): Promise<ImportView | null> {
    const row = await this.db.selectFrom('image_images').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? viewOf(row) : null;
  }

  /** Applies `change(image)` (null: leave it); resolves the image as written, or null when it is gone. */
  async mutate(id: string, change: (image: ImportView) => ImportChange | null): Promise<ImportView | null> {
    return this.db.transaction().execute(async (trx) => {
      let select = trx.selectFrom('image_images').selectAll().where('id', '=', id);
      if (this.engine === 'postgres') select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (!row) return null;
      const image = viewOf(row);
      const c = change(image);
      if (!c) return image;
      await trx
        .updateTable('image_images')
        .set({
          updated_at: this.now(),
          ...(c.status !== undefined ? { status: c.status } : {}),
          ...(c.properties !== undefined ? { properties: JSON.stringify(c.properties) } : {}),
          ...(c.locations !== undefined ? { locations: JSON.stringify(c.locations) } : {}),
          ...(c.size !== undefined ? { size: c.size } : {}),
          ...(c.virtualSize !== undefined ? { virtual_size: c.virtualSize } : {}),
          ...(c.checksum !== undefined ? { checksum: c.checksum } : {}),
          ...(c.osHashAlgo !== undefined ? { os_hash_algo: c.osHashAlgo } : {}),
          ...(c.osHashValue !== undefined ? { os_hash_value: c.osHashValue } : {}),
          ...(c.diskFormat !== undefined ? { disk_format: c.diskFormat } : {}),
          ...(c.containerFormat !== undefined ? { container_format: c.containerFormat } : {}),
        })
        .where('id', '=', id)
        .execute();
      return {
        ...image,
        ...(c.status !== undefined ? { status: c.status } : {}),
        ...(c.properties !== undefined ? { properties: c.properties } : {}),
        ...(c.locations !== undefined ? { locations: c.locations } : {}),
        ...(c.size !== undefined ? { size: c.size } : {}),
        ...(c.checksum !== undefined ? { checksum: c.checksum } : {}),
        ...(c.diskFormat !== undefined ? { diskFormat: c.diskFormat } : {}),
        ...(c.containerFormat !== undefined ? { containerFormat: c.containerFormat } : {}),
      };
    });
  }

  /** Drops the import lock if `taskId` holds it (Glance's delete_property_atomic); false otherwise. */
  async unlock(id: string, taskId: string): Promise<boolean> {
    let held = false;
    await this.mutate(id, (image) => {
      if (image.properties[IMPORT_TASK] !== taskId) return null;
      held = true;
      const { [IMPORT_TASK]: _lock, ...properties } = image.properties;
      return { properties };
    });
    return held;
  }
}

/** Glance's merge_store_list: a sorted, comma-separated set of store ids. */
export function mergeStores(properties: Record<string, string>, key: string, stores: readonly string[], subtract = false): Record<string, string> {
  const existing = new Set((properties[key] ?? '').split(',').filter(Boolean));
  for (const store of stores) {
    if (subtract) existing.delete(store);
    else existing.add(store);
  }
  return { ...properties, [key]: [...existing].sort().join(',') };
}

function viewOf(row: ImageTables['image_images']): ImportView {
  return {
    id: row.id,
    status: row.status as ImageStatus,
    owner: row.owner,
    size: row.size === null ? null : Number(row.size),
    checksum: row.checksum,
    diskFormat: row.disk_format,
    containerFormat: row.container_format,
    properties: JSON.parse(row.properties) as Record<string, string>,
    locations: JSON.parse(row.locations) as ImageLocation[],
  };
}
