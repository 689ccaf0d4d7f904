import { CloudError, badRequest, conflict, forbidden } from '../../common/errors.js';
import { CORE_WRITABLE, type Image, type Visibility } from './model/image.js';
import { checkWritable, validateAttribute } from './validate.js';

const OPS = new Set(['add', 'replace', 'remove']);

/**
 * Applies an application/openstack-images-v2.1-json-patch document to a copy of `image`
 * (RFC 6902 subset Glance accepts: add/replace/remove of top-level attributes).
 */
export function applyPatch(image: Image, doc: unknown): Image {
  if (!Array.isArray(doc)) throw badRequest('Request body must be a JSON array of operation objects.');
  const next: Image = { ...image, properties: { ...image.properties }, tags: [...image.tags] };
  for (const change of doc) {
    if (typeof change !== 'object' || change === null || Array.isArray(change)) throw badRequest('Operations must be JSON objects.');
    const { op, path, value } = change as { op?: unknown; path?: unknown; value?: unknown };
    if (typeof op !== 'string' || !OPS.has(op)) throw badRequest(`Operation objects must contain exactly one member named "add", "remove", or "replace".`);
    if (typeof path !== 'string') throw badRequest('Unable to find \'path\' element in operation object.');
    if (!/^\/[^/]+$/.test(path)) throw badRequest(`Invalid JSON pointer for this resource: '${path}'`);
    const key = path.slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
    if (key === 'locations' || key === 'location') throw forbidden(`Attribute '${key}' is reserved.`);
    checkWritable(key);
    if (op !== 'remove') {
      if (!('value' in (change as object))) throw badRequest('Operation "' + op + '" requires a member named "value".');
      validateAttribute(key, value);
    }
    const core = CORE_WRITABLE.has(key);
    if (op === 'remove') {
      if (core) throw forbidden(`Properties ${key} cannot be deleted. Unable to delete as ${key} is a base property`);
      if (!(key in next.properties)) throw conflict(`Property ${key} does not exist.`);
      delete next.properties[key];
      continue;
    }
    if (!core) {
      if (op === 'replace' && !(key in next.properties)) throw conflict(`Property ${key} does not exist.`);
      next.properties[key] = value as string;
      continue;
    }
    setCore(next, key, value);
  }
  return next;
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
