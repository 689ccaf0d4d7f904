import { badRequest } from '../../common/errors.js';
import { parseIso } from '../../common/db/time.js';
import type { Caller } from './caller.js';
import type { Image } from './model/image.js';
import type { ImageService } from './service.js';

export type Query = Record<string, string | string[] | undefined>;

/** Glance v2 SUPPORTED_SORT_KEYS. */
const SORT_KEYS = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'];
const NON_PROPERTY = new Set(['limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'member_status', 'visibility', 'tag', 'size_min', 'size_max', 'created_at', 'updated_at', 'os_hidden']);
const IN_FILTERS = new Set(['id', 'name', 'status', 'container_format', 'disk_format']);
const TIME_OPS = new Set(['gt', 'gte', 'lt', 'lte', 'eq', 'neq']);

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function attr(image: Image, key: string): string | number | boolean | null {
  switch (key) {
    case 'id': return image.id;
    case 'name': return image.name;
    case 'status': return image.status;
    case 'visibility': return image.visibility;
    case 'owner': return image.owner;
    case 'protected': return image.protected;
    case 'checksum': return image.checksum;
    case 'os_hash_value': return image.osHashValue;
    case 'size': return image.size;
    case 'virtual_size': return image.virtualSize;
    case 'disk_format': return image.diskFormat;
    case 'container_format': return image.containerFormat;
    case 'min_disk': return image.minDisk;
    case 'min_ram': return image.minRam;
    case 'created_at': return image.createdAt;
    case 'updated_at': return image.updatedAt;
    default: return image.properties[key] ?? null;
  }
}

export interface Page {
  images: Image[];
  next: string | null;
}

/** GET /v2/images: Glance's visibility rules, filters, sorting and marker/limit paging. */
export async function listImages(service: ImageService, caller: Caller, query: Query): Promise<Page> {
  const cfg = service.config;
  const limitText = first(query.limit);
  let limit = cfg.limit_param_default;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText)) throw badRequest('limit param must be an integer');
    limit = Number(limitText);
    if (limit < 0) throw badRequest('limit param must be positive');
  }
  limit = Math.min(limit, cfg.api_limit_max);
  const sorts = sortSpec(query);

  const visibility = first(query.visibility);
  if (visibility !== undefined && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
    throw badRequest(`Invalid visibility value: ${visibility}`);
  }
  const memberStatus = first(query.member_status) ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) throw badRequest(`Invalid status value: ${memberStatus}`);
  const osHidden = first(query.os_hidden);
  if (osHidden !== undefined && !['true', 'false'].includes(osHidden.toLowerCase())) throw badRequest(`Invalid value for os_hidden: ${osHidden}`);

  let images = await service.repo.candidates(caller.project, caller.isAdmin);
  const memberships = caller.project ? await service.repo.memberships(caller.project) : new Map<string, string>();
  const owned = (i: Image) => caller.project !== null && i.owner === caller.project;
  images = images.filter((i) => {
    if (visibility && visibility !== 'all' && i.visibility !== visibility) return false;
    // Without a visibility filter community images are listed only for their owner.
    if (!visibility && i.visibility === 'community' && !owned(i)) return false;
    if (i.visibility === 'shared' && !owned(i) && !caller.isAdmin) {
      const status = memberships.get(i.id);
      if (!status || (memberStatus !== 'all' && status !== memberStatus)) return false;
    }
    if (osHidden === undefined ? i.osHidden : i.osHidden !== (osHidden.toLowerCase() === 'true')) return false;
    return true;
  });

  for (const tag of all(query.tag)) images = images.filter((i) => i.tags.includes(tag));
  const sizeMin = numberParam(query.size_min, 'size_min');
  const sizeMax = numberParam(query.size_max, 'size_max');
  if (sizeMin !== null) images = images.filter((i) => i.size !== null && i.size >= sizeMin);
  if (sizeMax !== null) images = images.filter((i) => i.size !== null && i.size <= sizeMax);
  for (const key of ['created_at', 'updated_at'] as const) {
    const value = first(query[key]);
    if (value !== undefined) images = images.filter(timeFilter(key, value));
  }
  for (const [key, raw] of Object.entries(query)) {
    if (NON_PROPERTY.has(key) || raw === undefined) continue;
    const value = first(raw) as string;
    if (value.startsWith('in:') && IN_FILTERS.has(key)) {
      const options = value.slice(3).split(',').map((s) => s.replace(/^"|"$/g, ''));
      images = images.filter((i) => options.includes(String(attr(i, key))));
    } else if (key === 'protected') {
      if (!['true', 'false'].includes(value)) throw badRequest(`Invalid value '${value}' for 'protected' filter. Valid values are 'true' or 'false'.`);
      images = images.filter((i) => i.protected === (value === 'true'));
    } else if (key === 'size' || key === 'min_disk' || key === 'min_ram' || key === 'virtual_size') {
      images = images.filter((i) => String(attr(i, key)) === value);
    } else {
      images = images.filter((i) => attr(i, key) === value);
    }
  }

  images.sort((a, b) => {
    for (const { key, dir } of sorts) {
      const c = compare(attr(a, key), attr(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });

  const marker = first(query.marker);
  if (marker !== undefined) {
    const at = images.findIndex((i) => i.id === marker);
    if (at < 0) throw badRequest(`Invalid marker. Image ${marker} could not be found.`);
    images = images.slice(at + 1);
  }
  const page = images.slice(0, limit);
  const next = page.length > 0 && page.length === limit && images.length > limit ? page[page.length - 1]!.id : null;
  return { images: page, next };
}

function sortSpec(query: Query): { key: string; dir: 'asc' | 'desc' }[] {
  const sort = first(query.sort);
  let spec: { key: string; dir: 'asc' | 'desc' }[];
  if (sort !== undefined) {
    if (query.sort_key !== undefined || query.sort_dir !== undefined) throw badRequest('The sort and sort_key/sort_dir parameters cannot be used together.');
    spec = sort.split(',').map((part) => {
      const [key = '', dir = 'desc'] = part.trim().split(':');
      if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
      return { key: key.trim(), dir };
    });
  } else {
    const keys = all(query.sort_key);
    const dirs = all(query.sort_dir);
    if (dirs.length > 1 && dirs.length !== keys.length) throw badRequest('Number of sort dirs does not match the number of sort keys');
    for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    spec = (keys.length ? keys : ['created_at']).map((key, i) => ({ key, dir: (dirs[i] ?? dirs[0] ?? 'desc') as 'asc' | 'desc' }));
  }
  for (const { key } of spec) if (!SORT_KEYS.includes(key)) throw badRequest(`Invalid sort key: ${key}. It should be one of the following: ${SORT_KEYS.join(', ')}.`);
  // Glance appends created_at and id so that pages are stable.
  if (!spec.some((s) => s.key === 'created_at')) spec.push({ key: 'created_at', dir: 'desc' });
  if (!spec.some((s) => s.key === 'id')) spec.push({ key: 'id', dir: 'desc' });
  return spec;
}

function compare(a: string | number | boolean | null, b: string | number | boolean | null): number {
  if (a === b) return 0;
  // Glance (SQL) sorts NULL first ascending.
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function numberParam(raw: string | string[] | undefined, name: string): number | null {
  const v = first(raw);
  if (v === undefined) return null;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for ${name}: ${v}`);
  return Number(v);
}

function timeFilter(key: 'created_at' | 'updated_at', value: string): (i: Image) => boolean {
  const m = /^(?:(gt|gte|lt|lte|eq|neq):)?(.+)$/.exec(value);
  const op = m?.[1] ?? 'eq';
  const when = parseIso(normalizeTime(m?.[2] ?? ''));
  if (!TIME_OPS.has(op) || Number.isNaN(when.getTime())) throw badRequest(`Invalid time format for ${key}.`);
  const t = when.getTime();
  return (i) => {
    const v = parseIso(i[key === 'created_at' ? 'createdAt' : 'updatedAt']).getTime();
    // Glance compares at second precision (its timestamps have no fractions on the wire).
    const s = Math.floor(v / 1000) * 1000;
    switch (op) {
      case 'gt': return s > t;
      case 'gte': return s >= t;
      case 'lt': return s < t;
      case 'lte': return s <= t;
      case 'neq': return s !== t;
      default: return s === t;
    }
  };
}

function normalizeTime(text: string): string {
  return /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
}
