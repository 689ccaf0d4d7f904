import { isoSeconds, parseIso } from '../../../common/db/time.js';
import type { MetadefObject, MetadefProperty, MetadefTag, NamespaceDetail, PropertyDefinition, ResourceType, ResourceTypeAssociation } from './model.js';

const wireTime = (iso: string): string => isoSeconds(parseIso(iso));

/** wsme leaves out attributes that are unset (None): so does every view here. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined));
}

/** Glance's GET ?resource_type=: property names as that resource type sees them (with its prefix). */
function prefixed<T>(entries: Record<string, T>, prefix: string | null): Record<string, T> {
  if (!prefix) return entries;
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [prefix + k, v]));
}

export function renderObject(namespace: string, obj: MetadefObject, prefix: string | null = null): Record<string, unknown> {
  return compact({
    name: obj.name,
    description: obj.description,
    required: obj.required && prefix ? obj.required.map((r) => prefix + r) : obj.required,
    properties: obj.properties ? prefixed(obj.properties, prefix) : null,
    created_at: wireTime(obj.createdAt),
    updated_at: wireTime(obj.updatedAt),
    self: `/v2/metadefs/namespaces/${namespace}/objects/${obj.name}`,
    schema: '/v2/schemas/metadefs/object',
  });
}

export function renderAssociation(a: ResourceTypeAssociation): Record<string, unknown> {
  return compact({ name: a.name, prefix: a.prefix, properties_target: a.propertiesTarget, created_at: wireTime(a.createdAt), updated_at: wireTime(a.updatedAt) });
}

export function renderResourceType(t: ResourceType): Record<string, unknown> {
  return { name: t.name, created_at: wireTime(t.createdAt), updated_at: wireTime(t.updatedAt) };
}

export function propertyMap(properties: MetadefProperty[]): Record<string, PropertyDefinition> {
  return Object.fromEntries(properties.map((p) => [p.name, p.definition]));
}

export function renderProperty(p: MetadefProperty): Record<string, unknown> {
  return { name: p.name, ...p.definition };
}

export function renderTag(t: MetadefTag): Record<string, unknown> {
  return { name: t.name, created_at: wireTime(t.createdAt), updated_at: wireTime(t.updatedAt) };
}

/** A namespace with whatever it contains; empty collections are left out, as Glance does. */
export function renderNamespace(detail: NamespaceDetail, resourceType?: string): Record<string, unknown> {
  const ns = detail.namespace;
  const prefix = resourceType ? (detail.resourceTypes.find((a) => a.name === resourceType)?.prefix ?? null) : null;
  return compact({
    namespace: ns.namespace,
    display_name: ns.displayName,
    description: ns.description,
    visibility: ns.visibility,
    protected: ns.protected,
    owner: ns.owner,
    created_at: wireTime(ns.createdAt),
    updated_at: wireTime(ns.updatedAt),
    resource_type_associations: detail.resourceTypes.length ? detail.resourceTypes.map(renderAssociation) : null,
    properties: detail.properties.length ? prefixed(propertyMap(detail.properties), prefix) : null,
    objects: detail.objects.length ? detail.objects.map((o) => renderObject(ns.namespace, o, prefix)) : null,
    tags: detail.tags.length ? detail.tags.map((t) => ({ name: t.name })) : null,
    self: `/v2/metadefs/namespaces/${ns.namespace}`,
    schema: '/v2/schemas/metadefs/namespace',
  });
}
