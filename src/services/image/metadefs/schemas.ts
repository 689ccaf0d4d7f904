import { Ajv, type ValidateFunction } from 'ajv';
import { badRequest } from '../../../common/errors.js';
import { pagedCollectionSchema } from '../api/schemas/collection.js';

/**
 * The JSON schemas Glance serves under /v2/schemas/metadefs/* and validates request bodies
 * with (glance.schema.Schema.raw(): additionalProperties false, `definitions` shared).
 * Long descriptions are shortened; names, types, limits and required lists are Glance's.
 */
type Schema = Record<string, unknown>;

const readOnlyTime = (what: string): Schema => ({ type: 'string', readOnly: true, description: `Date and time of ${what}`, format: 'date-time' });
const readOnlyString: Schema = { readOnly: true, type: 'string' };
const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', null];

/** Property definition fields (Glance's PropertyType). */
function propertyFields(): Schema {
  return {
    name: { type: 'string', maxLength: 80 },
    title: { type: 'string' },
    description: { type: 'string' },
    operators: { type: 'array', items: { type: 'string' } },
    type: { type: 'string', enum: TYPES },
    required: { $ref: '#/definitions/stringArray' },
    minimum: { type: 'number' },
    maximum: { type: 'number' },
    maxLength: { $ref: '#/definitions/positiveInteger' },
    minLength: { $ref: '#/definitions/positiveIntegerDefault0' },
    pattern: { type: 'string', format: 'regex' },
    enum: { type: 'array' },
    readonly: { type: 'boolean' },
    default: {},
    items: { type: 'object', properties: { type: { type: 'string', enum: TYPES }, enum: { type: 'array' } } },
    maxItems: { $ref: '#/definitions/positiveInteger' },
    minItems: { $ref: '#/definitions/positiveIntegerDefault0' },
    uniqueItems: { type: 'boolean', default: false },
    additionalItems: { type: 'boolean' },
  };
}

function definitions(): Schema {
  return {
    positiveInteger: { type: 'integer', minimum: 0 },
    positiveIntegerDefault0: { allOf: [{ $ref: '#/definitions/positiveInteger' }, { default: 0 }] },
    stringArray: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    property: {
      type: 'object',
      additionalProperties: { type: 'object', required: ['title', 'type'], properties: propertyFields() },
    },
  };
}

const schema = (name: string, properties: Schema, required: string[] | null, withDefinitions = true): Schema => ({
  name,
  properties,
  additionalProperties: false,
  ...(withDefinitions ? { definitions: definitions() } : {}),
  ...(required ? { required } : {}),
});

function resourceTypeAssociationFields(): Schema {
  return {
    name: { type: 'string', description: 'Resource type names should be aligned with Heat resource types whenever possible.', maxLength: 80 },
    prefix: { type: 'string', description: 'Prefix put before the property names of the namespace for this resource type (e.g. "hw_").', maxLength: 80 },
    properties_target: { type: 'string', description: 'Which set of key/value pairs of the resource the properties apply to (e.g. "image").', maxLength: 80 },
    created_at: readOnlyTime('resource type association'),
    updated_at: readOnlyTime('the last resource type association modification'),
  };
}

function objectFields(): Schema {
  return {
    name: { type: 'string', maxLength: 80 },
    description: { type: 'string' },
    required: { $ref: '#/definitions/stringArray' },
    properties: { $ref: '#/definitions/property' },
    schema: readOnlyString,
    self: readOnlyString,
    created_at: readOnlyTime('object creation'),
    updated_at: readOnlyTime('the last object modification'),
  };
}

function namespaceFields(): Schema {
  return {
    namespace: { type: 'string', description: 'The unique namespace text.', maxLength: 80 },
    display_name: { type: 'string', description: 'The user friendly name for the namespace. Used by UI if available.', maxLength: 80 },
    description: { type: 'string', description: 'Provides a user friendly description of the namespace.', maxLength: 500 },
    visibility: { type: 'string', description: 'Scope of namespace accessibility.', enum: ['public', 'private'] },
    protected: { type: 'boolean', description: 'If true, namespace will not be deletable.' },
    owner: { type: 'string', description: 'Owner of the namespace.', maxLength: 255 },
    created_at: readOnlyTime('namespace creation'),
    updated_at: readOnlyTime('the last namespace modification'),
    schema: readOnlyString,
    self: readOnlyString,
    resource_type_associations: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, prefix: { type: 'string' }, properties_target: { type: 'string' } } },
    },
    properties: { $ref: '#/definitions/property' },
    objects: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' }, required: { $ref: '#/definitions/stringArray' }, properties: { $ref: '#/definitions/property' } } },
    },
    tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  };
}

function tagFields(): Schema {
  return { name: { type: 'string', maxLength: 80 }, created_at: readOnlyTime('tag creation'), updated_at: readOnlyTime('the last tag modification') };
}

/** glance.schema.CollectionSchema: the item schema's definitions move up to the collection. */
function collection(name: string, item: Schema, asDict = false): Schema {
  const { definitions: defs, ...itemWithoutDefinitions } = item;
  const list = asDict ? { type: 'object', additionalProperties: itemWithoutDefinitions } : { type: 'array', items: itemWithoutDefinitions };
  return pagedCollectionSchema(name, list, defs ? { definitions: defs } : {});
}

export const METADEF_SCHEMAS = {
  namespace: () => schema('namespace', namespaceFields(), ['namespace']),
  namespaces: () => collection('namespaces', schema('namespace', namespaceFields(), ['namespace'])),
  resource_type: () => schema('resource_type_association', resourceTypeAssociationFields(), ['name'], false),
  resource_types: () => collection('resource_type_associations', schema('resource_type_association', resourceTypeAssociationFields(), ['name'], false)),
  object: () => schema('object', objectFields(), ['name']),
  objects: () => collection('objects', schema('object', objectFields(), ['name'])),
  property: () => schema('property', propertyFields(), ['type', 'title', 'name']),
  properties: () => collection('properties', schema('property', propertyFields(), ['type', 'title']), true),
  tag: () => schema('tag', tagFields(), ['name']),
  tags: () => schema('tags', { tags: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } } }, null),
} as const;

export type MetadefSchemaName = keyof typeof METADEF_SCHEMAS;

// Made on first use, and without the meta-schema: both are start-up cost for a rarely used API.
let ajv: Ajv | null = null;
const compiled = new Map<MetadefSchemaName, ValidateFunction>();

/** Validates a request body as Glance does (jsonschema against the schema above): 400 when it does not match. */
export function validateBody(name: MetadefSchemaName, body: unknown): void {
  let validate = compiled.get(name);
  if (!validate) {
    const { name: _title, links: _links, ...rest } = METADEF_SCHEMAS[name]() as Schema & { name?: unknown; links?: unknown };
    ajv ??= new Ajv({ strict: false, validateFormats: false, allErrors: false, validateSchema: false, meta: false });
    validate = ajv.compile(rest);
    compiled.set(name, validate);
  }
  if (validate(body)) return;
  const error = validate.errors?.[0];
  const where = error?.instancePath ? ` at '${error.instancePath.slice(1).replaceAll('/', '.')}'` : '';
  const detail = error?.keyword === 'additionalProperties'
    ? `Additional properties are not allowed ('${String((error.params as { additionalProperty?: unknown }).additionalProperty)}' was unexpected)`
    : `${error?.message ?? 'invalid'}${where}`;
  const schemaName = String(METADEF_SCHEMAS[name]().name);
  throw badRequest(`Provided object does not match schema '${schemaName}': ${detail}`);
}
