import { CloudError, badRequest, forbidden } from '../../common/errors.js';
import { isUuid } from '../../common/ids.js';
import { CONTAINER_FORMATS, DISK_FORMATS, READ_ONLY_ATTRIBUTES, RESERVED_ATTRIBUTES, VISIBILITIES } from './model/image.js';

const INT_MAX = 2147483647;

/** Glance's message for a value its JSON schema refuses (jsonschema's wording after the prefix). */
const schemaError = (detail: string): CloudError => badRequest(`Provided object does not match schema 'image': ${detail}`);

/** 403 for server-owned and reserved names, as Glance's ImmutableImageProxy / reserved namespace. */
export function checkWritable(key: string): void {
  if (READ_ONLY_ATTRIBUTES.has(key)) throw forbidden(`Attribute '${key}' is read-only.`);
  if (RESERVED_ATTRIBUTES.has(key) || key.startsWith('os_glance')) throw forbidden(`Attribute '${key}' is reserved.`);
}

/** Validates one attribute value against Glance's image schema; throws 400 when it does not match. */
export function validateAttribute(key: string, value: unknown): void {
  const enumOrNull = (allowed: readonly string[]) => {
    if (value !== null && (typeof value !== 'string' || !allowed.includes(value))) throw schemaError(`${JSON.stringify(value)} is not one of ${JSON.stringify([...allowed, null])}`);
  };
  switch (key) {
    case 'name':
    case 'owner':
      if (value !== null && typeof value !== 'string') throw schemaError(`${JSON.stringify(value)} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255) throw schemaError(`'${value.slice(0, 20)}...' is too long`);
      return;
    case 'visibility':
      if (typeof value !== 'string' || !(VISIBILITIES as readonly string[]).includes(value)) throw schemaError(`${JSON.stringify(value)} is not one of ${JSON.stringify(VISIBILITIES)}`);
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') throw schemaError(`${JSON.stringify(value)} is not of type 'boolean'`);
      return;
    case 'disk_format':
      return enumOrNull(DISK_FORMATS);
    case 'container_format':
      return enumOrNull(CONTAINER_FORMATS);
    case 'min_ram':
    case 'min_disk':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw schemaError(`${JSON.stringify(value)} is not of type 'integer'`);
      if (value < 0) throw schemaError(`${value} is less than the minimum of 0`);
      if (value > INT_MAX) throw badRequest(`'${key}' value must be less than ${INT_MAX}.`);
      return;
    case 'tags':
      if (!Array.isArray(value)) throw schemaError(`${JSON.stringify(value)} is not of type 'array'`);
      for (const tag of value) validateTag(tag);
      return;
    case 'id':
      if (typeof value !== 'string' || !isUuid(value)) throw schemaError(`${JSON.stringify(value)} does not match '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$'`);
      return;
    default:
      if (typeof value !== 'string') throw schemaError(`${JSON.stringify(value)} is not of type 'string'`);
      if (value.length > 65535) throw schemaError('value is too long');
      // Glance stores property names in a varchar(255) column and checks them itself (LP #1737952).
      if (key.length > 255) throw badRequest('Custom property should not be greater than 255 characters.');
  }
}

export function validateTag(tag: unknown): asserts tag is string {
  if (typeof tag !== 'string') throw schemaError(`${JSON.stringify(tag)} is not of type 'string'`);
  if (tag.length > 255) throw schemaError(`'${tag.slice(0, 20)}...' is too long`);
}
