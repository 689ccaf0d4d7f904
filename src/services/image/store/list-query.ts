import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { DbEngine } from '../../../common/db/index.js';
import type { Image } from '../model/image.js';
import type { ImageRow, ImageTables } from './tables.js';

/** Glance v2's SUPPORTED_SORT_KEYS. */
export const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export interface SortTerm {
  key: SortKey;
  dir: 'asc' | 'desc';
}

export type TextColumn = 'id' | 'name' | 'status' | 'owner' | 'checksum' | 'os_hash_algo' | 'os_hash_value' | 'disk_format' | 'container_format' | 'created_at' | 'updated_at';
export type NumberColumn = 'size' | 'virtual_size' | 'min_disk' | 'min_ram' | 'protected';

/** One filter on a column of image_images, already validated and normalised by listing.ts. */
export type Condition =
  | { column: TextColumn; op: '=' | '<' | '>='; value: string }
  | { column: TextColumn; op: 'in'; values: string[] }
  /** Outside the half-open interval [from, to): how `neq` on a one-second timestamp is expressed. */
  | { column: TextColumn; op: 'outside'; from: string; to: string }
  | { column: NumberColumn; op: '=' | '>=' | '<='; value: number }
  | { op: 'never' };

export interface ListSpec {
  viewer: { project: string | null; isAdmin: boolean };
  /** null: no visibility filter (community images only when owned); 'all': every visibility. */
  visibility: 'public' | 'private' | 'shared' | 'community' | 'all' | null;
  memberStatus: 'pending' | 'accepted' | 'rejected' | 'all';
  osHidden: boolean;
  conditions: Condition[];
  /** Every tag must be on the image. */
  tags: string[];
  /** Custom properties that must equal the given strings. */
  properties: { key: string; value: string }[];
  /** Complete order: listing.ts appends created_at and id so that it is total. */
  sort: SortTerm[];
  /** The marker image: the page starts right after it in `sort` order. */
  after: Image | null;
  limit: number;
}

type Builder = ExpressionBuilder<ImageTables, 'image_images'>;

/** Glance lists neither deleted nor killed images, whatever the filters say. */
const UNLISTED_STATUSES = ['killed', 'deleted', 'pending_delete'];

/**
 * Nullable sort keys are ordered (and compared with the marker) as Glance's paginator does:
 * NULL as the empty string or 0, so NULLs come first ascending on both engines.
 */
function sortExpression(eb: Builder, key: SortKey): Expression<string | number> {
  switch (key) {
    case 'name':
    case 'disk_format':
    case 'container_format':
      return eb.fn.coalesce(key, sql.lit(''));
    case 'size':
      return eb.fn.coalesce('size', sql.lit(0));
    default:
      return eb.ref(key);
  }
}

function markerValue(image: Image, key: SortKey): string | number {
  switch (key) {
    case 'name': return image.name ?? '';
    case 'disk_format': return image.diskFormat ?? '';
    case 'container_format': return image.containerFormat ?? '';
    case 'size': return image.size ?? 0;
    case 'status': return image.status;
    case 'id': return image.id;
    case 'created_at': return image.createdAt;
    case 'updated_at': return image.updatedAt;
  }
}

/** Rows after `spec.after`: (k1 > m1) or (k1 = m1 and k2 > m2) or ..., each with its own direction. */
function afterMarker(eb: Builder, sort: SortTerm[], marker: Image): Expression<SqlBool> {
  const disjuncts: Expression<SqlBool>[] = [];
  for (let i = 0; i < sort.length; i++) {
    const terms: Expression<SqlBool>[] = [];
    for (let j = 0; j < i; j++) terms.push(eb(sortExpression(eb, sort[j]!.key), '=', markerValue(marker, sort[j]!.key)));
    const { key, dir } = sort[i]!;
    terms.push(eb(sortExpression(eb, key), dir === 'asc' ? '>' : '<', markerValue(marker, key)));
    disjuncts.push(eb.and(terms));
  }
  const { key, dir } = sort[0]!;
  // Redundant with the disjunction, but a plain range on the leading key lets the index seek.
  return eb.and([eb(sortExpression(eb, key), dir === 'asc' ? '>=' : '<=', markerValue(marker, key)), eb.or(disjuncts)]);
}

function condition(eb: Builder, c: Condition): Expression<SqlBool> {
  switch (c.op) {
    case 'never':
      return sql<SqlBool>`1 = 0`;
    case 'in':
      return c.values.length ? eb(c.column, 'in', c.values) : sql<SqlBool>`1 = 0`;
    case 'outside':
      return eb.or([eb(c.column, '<', c.from), eb(c.column, '>=', c.to)]);
    default:
      return typeof c.value === 'number' ? eb(c.column as NumberColumn, c.op, c.value) : eb(c.column as TextColumn, c.op as '=' | '<' | '>=', c.value);
  }
}

/**
 * A custom property equals a string. Properties are a JSON object in one text column; both
 * engines look the key up with bound parameters, so any key (dots, quotes, `$`) is safe.
 */
function propertyEquals(eb: Builder, engine: DbEngine, key: string, value: string): Expression<SqlBool> {
  const column = eb.ref('image_images.properties');
  // json, not jsonb: reading one key from a text column is about twice as fast without jsonb's conversion.
  if (engine === 'postgres') return sql<SqlBool>`json_extract_path_text(cast(${column} as json), cast(${key} as text)) = ${value}`;
  return sql<SqlBool>`exists (select 1 from json_each(${column}) as p where p.key = ${key} and p.type = 'text' and p.value = ${value})`;
}

/** Glance's visibility rules for a regular user (image_get_all's union of public, owned and member queries). */
function visibleTo(eb: Builder, project: string | null, memberStatus: ListSpec['memberStatus']): Expression<SqlBool> {
  const anyone = eb('visibility', 'in', ['public', 'community']);
  if (project === null) return anyone;
  let memberOf = eb.selectFrom('image_members').select('image_members.image_id').where('image_members.member_id', '=', project);
  if (memberStatus !== 'all') memberOf = memberOf.where('image_members.status', '=', memberStatus);
  return eb.or([anyone, eb('owner', '=', project), eb.and([eb('visibility', '=', 'shared'), eb('id', 'in', memberOf)])]);
}

/** One page of image rows for GET /v2/images; everything (rules, filters, order, marker, limit) runs in SQL. */
export async function selectImagePage(db: Kysely<ImageTables>, engine: DbEngine, spec: ListSpec): Promise<ImageRow[]> {
  if (spec.limit <= 0) return [];
  let query = db.selectFrom('image_images').selectAll('image_images');
  query = query.where((eb) => {
    const all: Expression<SqlBool>[] = [eb('status', 'not in', UNLISTED_STATUSES), eb('os_hidden', '=', spec.osHidden ? 1 : 0)];
    const { project, isAdmin } = spec.viewer;
    if (!isAdmin) all.push(visibleTo(eb, project, spec.memberStatus));
    if (spec.visibility !== null) {
      if (spec.visibility !== 'all') all.push(eb('visibility', '=', spec.visibility));
    } else if (project === null) {
      all.push(eb('visibility', '<>', 'community'));
    } else {
      // Without a visibility filter, community images are listed only for their owner.
      all.push(eb.or([eb('visibility', '<>', 'community'), eb('owner', '=', project)]));
    }
    for (const c of spec.conditions) all.push(condition(eb, c));
    for (const tag of spec.tags) {
      all.push(eb('id', 'in', eb.selectFrom('image_tags').select('image_tags.image_id').where('image_tags.tag', '=', tag)));
    }
    for (const { key, value } of spec.properties) all.push(propertyEquals(eb, engine, key, value));
    if (spec.after) all.push(afterMarker(eb, spec.sort, spec.after));
    return eb.and(all);
  });
  for (const { key, dir } of spec.sort) query = query.orderBy((eb) => sortExpression(eb, key), dir);
  return query.limit(spec.limit).execute();
}
