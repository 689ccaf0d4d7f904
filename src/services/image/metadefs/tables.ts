/** Row shapes of the metadef tables (store/migrations/0003-metadefs.ts). */
export interface NamespaceRow {
  id: string;
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: string;
  protected: number;
  owner: string | null;
  created_at: string;
  updated_at: string;
}

export interface ObjectRow {
  id: string;
  namespace_id: string;
  name: string;
  description: string | null;
  /** JSON array of property names, or null. */
  required: string | null;
  /** JSON object of property definitions. */
  json_schema: string;
  created_at: string;
  updated_at: string;
}

export interface PropertyRow {
  id: string;
  namespace_id: string;
  name: string;
  json_schema: string;
  created_at: string;
  updated_at: string;
}

export interface TagRow {
  id: string;
  namespace_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface ResourceTypeRow {
  id: string;
  name: string;
  protected: number;
  created_at: string;
  updated_at: string;
}

export interface AssociationRow {
  namespace_id: string;
  resource_type_id: string;
  properties_target: string | null;
  prefix: string | null;
  created_at: string;
  updated_at: string;
}

export interface MetadefTables {
  image_metadef_namespaces: NamespaceRow;
  image_metadef_objects: ObjectRow;
  image_metadef_properties: PropertyRow;
  image_metadef_tags: TagRow;
  image_metadef_resource_types: ResourceTypeRow;
  image_metadef_namespace_resource_types: AssociationRow;
}
