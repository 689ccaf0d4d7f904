import { CloudError, badRequest, conflict, forbidden } from '../../common/errors.js';
import { CORE_WRITABLE, type Image, type Visibility } from './model/image.js';
import { checkWritable, validateAttribute } from './validate.js';
import { validateLocationItems } from './locations/edits.js';

const OPS = ['add', 'remove', 'replace'] as const;
type Op = (typeof OPS)[number];

/** application/openstack-images-v2.0-json-patch is JSON Schema draft 4 style, v2.1 draft 10 (RFC 6902). */
export type PatchDraft = 4 | 10;

/** Handles `/locations` operations (locations/edits.ts); without one, locations stay reserved. */
export interface LocationPatcher {
  apply(image: Image, op: Op, position: string | null, value: unknown): void;
}

/** How deep a path may go: only locations take an index (`/locations/0`, `/locations/-`). */
const PATH_DEPTH: Record<string, Partial<Record<Op, number>>> = { locations: { add: 2, remove: 2, replace: 1 } };

/**
 * Applies an image JSON-patch document to a copy of `image` (Glance's subset: add/replace/remove of
 * top-level attributes, plus `/locations` through `locations`). Draft 10 operations are
 * {"op", "path", "value"}; draft 4 ones {"<op>": "<path>", "value"}.
 */
export function applyPatch(image: Image, doc: unknown, draft: PatchDraft = 10, locations?: LocationPatcher): Image {
  if (!Array.isArray(doc)) throw badRequest('Request body must be a JSON array of operation objects.');
  const next: Image = { ...image, properties: { ...image.properties }, tags: [...image.tags], locations: [...image.locations] };
  for (const change of doc) {
    if (typeof change !== 'object' || change === null || Array.isArray(change)) throw badRequest('Operations must be JSON objects.');
    const { op, pointer } = draft === 4 ? operationD4(change as Record<string, unknown>) : operationD10(change as Record<string, unknown>);
    const path = decodePointer(pointer);
    const key = path[0] as string;
    const depth = PATH_DEPTH[key]?.[op] ?? 1;
    if (path.length !== depth) throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const hasValue = 'value' in (change as object);
    const value = (change as { value?: unknown }).value;
    if (op !== 'remove' && !hasValue) throw badRequest(`Operation "${op}" requires a member named "value".`);
    if (key === 'locations' && locations) {
      if (op !== 'remove') validateLocationItems(op === 'replace' && Array.isArray(value) ? value : [value]);
      locations.apply(next, op, path[1] ?? null, value);
      continue;
    }
    if (key === 'locations' || key === 'location') throw forbidden(`Attribute '${key}' is reserved.`);
    checkWritable(key);
    if (op !== 'remove') validateAttribute(key, value);
    const core = CORE_WRITABLE.has(key);
    if (op === 'remove') {
      if (core) throw forbidden(`Properties ${key} cannot be deleted. Unable to delete as ${key} is a base property`);
      if (!(key in next.properties)) throw conflict(`Property ${key} does not exist.`);
      delete next.properties[key];
      continue;
    }
    if (op === 'add' && draft === 4 && (core || key in next.properties)) throw conflict(`Property ${key} already present.`);
    if (!core) {
      if (op === 'replace' && !(key in next.properties)) throw conflict(`Property ${key} does not exist.`);
      next.properties[key] = value as string;
      continue;
    }
    setCore(next, key, value);
  }
  return next;
}

function operationD10(change: Record<string, unknown>): { op: Op; pointer: unknown } {
  const op = change.op;
  if (op === undefined) throw badRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${OPS.join(', ')}.`);
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) throw badRequest(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${OPS.join(', ')}.`);
  if (!('path' in change)) throw badRequest("Unable to find 'path' in JSON Schema change");
  return { op: op as Op, pointer: change.path };
}

function operationD4(change: Record<string, unknown>): { op: Op; pointer: unknown } {
  const present = OPS.filter((op) => op in change);
  if (present.length > 1) throw badRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
  const op = present[0];
  if (!op) throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  return { op, pointer: change[op] };
}

/** Glance's limited JSON pointers: `/a` or `/a/b`, with ~0 and ~1 escapes and no empty tokens. */
function decodePointer(pointer: unknown): string[] {
  const text = typeof pointer === 'string' ? pointer : JSON.stringify(pointer);
  if (typeof pointer !== 'string' || !pointer.startsWith('/')) throw badRequest(`Pointer \`${text}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/' || pointer === '/') throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~')) throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer.slice(1).split('/').map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~').trim());
}

function setCore(image: Image, key: string, value: unknown): void {
  switch (key) {
    case 'name': image.name = value as string | null; break;
    case 'visibility': image.visibility = value as Visibility; break;
    case 'protected': image.protected = value as boolean; break;
    case 'os_hidden': image.osHidden = value as boolean; break;
    case 'owner': image.owner = value as string | null; break;
    case 'disk_format': image.diskFormat = value as string | null; break;
    case 'container_format': image.containerFormat = value as string | null; break;
    case 'min_disk': image.minDisk = value as number; break;
    case 'min_ram': image.minRam = value as number; break;
    case 'tags': image.tags = [...new Set(value as string[])].sort(); break;
    default: throw new CloudError('internal', `unhandled core attribute ${key}`);
  }
}
