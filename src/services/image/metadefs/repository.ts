import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../../common/db/index.js';
import { fromDbBool, toDbBool } from '../../../common/db/index.js';
import { uuid } from '../../../common/ids.js';
import type { MetadefNamespace, MetadefObject, MetadefProperty, MetadefTag, NamespaceVisibility, ResourceType, ResourceTypeAssociation } from './model.js';
import type { MetadefTables, NamespaceRow, ObjectRow, PropertyRow, TagRow } from './tables.js';

type Db = Kysely<MetadefTables> | Transaction<MetadefTables>;

/** Queries over the metadef tables; visibility and protection rules live in service.ts. */
export class MetadefRepository {
  readonly db: Kysely<MetadefTables>;

  constructor(database: Database) {
    this.db = database.typed<MetadefTables>();
  }

  transaction<T>(fn: (repo: MetadefRepository, trx: Transaction<MetadefTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(this, trx));
  }

  // Namespaces

  async namespaces(db: Db = this.db): Promise<MetadefNamespace[]> {
    return (await db.selectFrom('image_metadef_namespaces').selectAll().execute()).map(namespaceFromRow);
  }

  async namespace(name: string, db: Db = this.db): Promise<MetadefNamespace | null> {
    const row = await db.selectFrom('image_metadef_namespaces').selectAll().where('namespace', '=', name).executeTakeFirst();
    return row ? namespaceFromRow(row) : null;
  }

  async insertNamespace(ns: MetadefNamespace, db: Db = this.db): Promise<void> {
    await db.insertInto('image_metadef_namespaces').values(namespaceToRow(ns)).execute();
  }

  async updateNamespace(ns: MetadefNamespace, db: Db = this.db): Promise<void> {
    const { id, ...values } = namespaceToRow(ns);
    await db.updateTable('image_metadef_namespaces').set(values).where('id', '=', id).execute();
  }

  /** Deletes the namespace with everything it contains (the children cascade). */
  async deleteNamespace(id: string, db: Db = this.db): Promise<void> {
    await db.deleteFrom('image_metadef_namespace_resource_types').where('namespace_id', '=', id).execute();
    for (const table of ['image_metadef_objects', 'image_metadef_properties', 'image_metadef_tags'] as const) {
      await db.deleteFrom(table).where('namespace_id', '=', id).execute();
    }
    await db.deleteFrom('image_metadef_namespaces').where('id', '=', id).execute();
  }

  // Objects

  async objects(namespaceId: string, db: Db = this.db): Promise<MetadefObject[]> {
    const rows = await db.selectFrom('image_metadef_objects').selectAll().where('namespace_id', '=', namespaceId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(objectFromRow);
  }

  async object(namespaceId: string, name: string, db: Db = this.db): Promise<MetadefObject | null> {
    const row = await db.selectFrom('image_metadef_objects').selectAll().where('namespace_id', '=', namespaceId).where('name', '=', name).executeTakeFirst();
    return row ? objectFromRow(row) : null;
  }

  async saveObject(obj: MetadefObject, insert: boolean, db: Db = this.db): Promise<void> {
    const row = objectToRow(obj);
    if (insert) await db.insertInto('image_metadef_objects').values(row).execute();
    else await db.updateTable('image_metadef_objects').set(row).where('id', '=', obj.id).execute();
  }

  async deleteChildren(table: 'image_metadef_objects' | 'image_metadef_properties' | 'image_metadef_tags', namespaceId: string, name?: string, db: Db = this.db): Promise<void> {
    let query = db.deleteFrom(table).where('namespace_id', '=', namespaceId);
    if (name !== undefined) query = query.where('name', '=', name);
    await query.execute();
  }

  // Properties

  async properties(namespaceId: string, db: Db = this.db): Promise<MetadefProperty[]> {
    const rows = await db.selectFrom('image_metadef_properties').selectAll().where('namespace_id', '=', namespaceId).orderBy('name').execute();
    return rows.map(propertyFromRow);
  }

  async property(namespaceId: string, name: string, db: Db = this.db): Promise<MetadefProperty | null> {
    const row = await db.selectFrom('image_metadef_properties').selectAll().where('namespace_id', '=', namespaceId).where('name', '=', name).executeTakeFirst();
    return row ? propertyFromRow(row) : null;
  }

  async saveProperty(prop: MetadefProperty, insert: boolean, db: Db = this.db): Promise<void> {
    const row: PropertyRow = { id: prop.id, namespace_id: prop.namespaceId, name: prop.name, json_schema: JSON.stringify(prop.definition), created_at: prop.createdAt, updated_at: prop.updatedAt };
    if (insert) await db.insertInto('image_metadef_properties').values(row).execute();
    else await db.updateTable('image_metadef_properties').set(row).where('id', '=', prop.id).execute();
  }

  // Tags

  async tags(namespaceId: string, db: Db = this.db): Promise<MetadefTag[]> {
    const rows = await db.selectFrom('image_metadef_tags').selectAll().where('namespace_id', '=', namespaceId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
    return rows.map(tagFromRow);
  }

  async saveTag(tag: MetadefTag, insert: boolean, db: Db = this.db): Promise<void> {
    const row: TagRow = { id: tag.id, namespace_id: tag.namespaceId, name: tag.name, created_at: tag.createdAt, updated_at: tag.updatedAt };
    if (insert) await db.insertInto('image_metadef_tags').values(row).execute();
    else await db.updateTable('image_metadef_tags').set(row).where('id', '=', tag.id).execute();
  }

  // Resource types

  async resourceTypes(db: Db = this.db): Promise<ResourceType[]> {
    const rows = await db.selectFrom('image_metadef_resource_types').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, protected: fromDbBool(r.protected), createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async resourceTypeId(name: string, db: Db = this.db): Promise<string | null> {
    return (await db.selectFrom('image_metadef_resource_types').select('id').where('name', '=', name).executeTakeFirst())?.id ?? null;
  }

  /** The id of the named resource type, creating it (unprotected) on first use as Glance does. */
  async ensureResourceType(name: string, now: string, db: Db = this.db): Promise<string> {
    const existing = await this.resourceTypeId(name, db);
    if (existing) return existing;
    const id = uuid();
    await db.insertInto('image_metadef_resource_types').values({ id, name, protected: 0, created_at: now, updated_at: now }).execute();
    return id;
  }

  /** Associations of one namespace, or of every namespace (for lists), keyed by namespace id. */
  async associations(namespaceIds: string[], db: Db = this.db): Promise<Map<string, ResourceTypeAssociation[]>> {
    const result = new Map<string, ResourceTypeAssociation[]>();
    if (!namespaceIds.length) return result;
    const rows = await db
      .selectFrom('image_metadef_namespace_resource_types as a')
      .innerJoin('image_metadef_resource_types as t', 't.id', 'a.resource_type_id')
      .select(['a.namespace_id', 't.name', 'a.prefix', 'a.properties_target', 'a.created_at', 'a.updated_at'])
      .where('a.namespace_id', 'in', namespaceIds)
      .orderBy('a.created_at')
      .execute();
    for (const r of rows) {
      const list = result.get(r.namespace_id) ?? [];
      list.push({ name: r.name, prefix: r.prefix, propertiesTarget: r.properties_target, createdAt: r.created_at, updatedAt: r.updated_at });
      result.set(r.namespace_id, list);
    }
    return result;
  }

  /** Namespace ids associated with any of the named resource types. */
  async namespacesOfTypes(names: string[]): Promise<Set<string>> {
    if (!names.length) return new Set();
    const rows = await this.db
      .selectFrom('image_metadef_namespace_resource_types as a')
      .innerJoin('image_metadef_resource_types as t', 't.id', 'a.resource_type_id')
      .select('a.namespace_id')
      .where('t.name', 'in', names)
      .execute();
    return new Set(rows.map((r) => r.namespace_id));
  }

  async insertAssociation(namespaceId: string, resourceTypeId: string, assoc: ResourceTypeAssociation, db: Db = this.db): Promise<void> {
    await db
      .insertInto('image_metadef_namespace_resource_types')
      .values({ namespace_id: namespaceId, resource_type_id: resourceTypeId, prefix: assoc.prefix, properties_target: assoc.propertiesTarget, created_at: assoc.createdAt, updated_at: assoc.updatedAt })
      .execute();
  }

  async deleteAssociation(namespaceId: string, resourceTypeId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('image_metadef_namespace_resource_types').where('namespace_id', '=', namespaceId).where('resource_type_id', '=', resourceTypeId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function namespaceFromRow(r: NamespaceRow): MetadefNamespace {
  return {
    id: r.id,
    namespace: r.namespace,
    displayName: r.display_name,
    description: r.description,
    visibility: r.visibility as NamespaceVisibility,
    protected: fromDbBool(r.protected),
    owner: r.owner,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function namespaceToRow(ns: MetadefNamespace): NamespaceRow {
  return {
    id: ns.id,
    namespace: ns.namespace,
    display_name: ns.displayName,
    description: ns.description,
    visibility: ns.visibility,
    protected: toDbBool(ns.protected),
    owner: ns.owner,
    created_at: ns.createdAt,
    updated_at: ns.updatedAt,
  };
}

function objectFromRow(r: ObjectRow): MetadefObject {
  return {
    id: r.id,
    namespaceId: r.namespace_id,
    name: r.name,
    description: r.description,
    required: r.required === null ? null : (JSON.parse(r.required) as string[]),
    properties: JSON.parse(r.json_schema) as MetadefObject['properties'],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function objectToRow(o: MetadefObject): ObjectRow {
  return {
    id: o.id,
    namespace_id: o.namespaceId,
    name: o.name,
    description: o.description,
    required: o.required === null ? null : JSON.stringify(o.required),
    json_schema: JSON.stringify(o.properties),
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  };
}

function propertyFromRow(r: PropertyRow): MetadefProperty {
  return { id: r.id, namespaceId: r.namespace_id, name: r.name, definition: JSON.parse(r.json_schema) as MetadefProperty['definition'], createdAt: r.created_at, updatedAt: r.updated_at };
}

function tagFromRow(r: TagRow): MetadefTag {
  return { id: r.id, namespaceId: r.namespace_id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at };
}
