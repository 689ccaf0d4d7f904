/** Glance's metadata definitions ("metadefs"): catalogues of properties other services show in UIs. */
export type NamespaceVisibility = 'public' | 'private';
export const NAMESPACE_VISIBILITIES: readonly NamespaceVisibility[] = ['public', 'private'];

/** One property definition (Glance's PropertyType): a JSON-schema fragment with a title. */
export type PropertyDefinition = Record<string, unknown>;

export interface MetadefNamespace {
  id: string;
  namespace: string;
  displayName: string | null;
  description: string | null;
  visibility: NamespaceVisibility;
  protected: boolean;
  owner: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface MetadefObject {
  id: string;
  namespaceId: string;
  name: string;
  description: string | null;
  required: string[] | null;
  properties: Record<string, PropertyDefinition> | null;
  createdAt: string;
  updatedAt: string;
}

export interface MetadefProperty {
  id: string;
  namespaceId: string;
  name: string;
  /** Everything of the definition except its name (the key it is listed under). */
  definition: PropertyDefinition;
  createdAt: string;
  updatedAt: string;
}

export interface MetadefTag {
  id: string;
  namespaceId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface ResourceType {
  id: string;
  name: string;
  protected: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A namespace applies to a resource type; `prefix` is put before its property names for that type. */
export interface ResourceTypeAssociation {
  name: string;
  prefix: string | null;
  propertiesTarget: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Everything a namespace contains, as GET /v2/metadefs/namespaces/{ns} shows it. */
export interface NamespaceDetail {
  namespace: MetadefNamespace;
  objects: MetadefObject[];
  properties: MetadefProperty[];
  tags: MetadefTag[];
  resourceTypes: ResourceTypeAssociation[];
}
