import { ruleDefault, type RuleDefault } from '../../../common/policy/index.js';

const rule = (name: string, checkStr: string, description: string): RuleDefault => ruleDefault(`image:${name}`, checkStr, description);
const READ = 'rule:image:metadef_default';
const WRITE = 'rule:image:metadef_admin';

/** Glance's metadef rules with enforce_new_defaults=False: everybody reads, admins write. */
export const METADEF_POLICIES: RuleDefault[] = [
  rule('metadef_default', '', 'Default rule for reading metadata definitions.'),
  rule('metadef_admin', 'role:admin', 'Default rule for changing metadata definitions.'),
  rule('get_metadef_namespace', READ, 'GET /v2/metadefs/namespaces/{namespace_name}'),
  rule('get_metadef_namespaces', READ, 'GET /v2/metadefs/namespaces'),
  rule('modify_metadef_namespace', WRITE, 'PUT /v2/metadefs/namespaces/{namespace_name}'),
  rule('add_metadef_namespace', WRITE, 'POST /v2/metadefs/namespaces'),
  rule('delete_metadef_namespace', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}'),
  rule('get_metadef_object', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}'),
  rule('get_metadef_objects', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/objects'),
  rule('modify_metadef_object', WRITE, 'PUT /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}'),
  rule('add_metadef_object', WRITE, 'POST /v2/metadefs/namespaces/{namespace_name}/objects'),
  rule('delete_metadef_object', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}/objects/{object_name}'),
  rule('list_metadef_resource_types', READ, 'GET /v2/metadefs/resource_types'),
  rule('get_metadef_resource_type', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/resource_types'),
  rule('add_metadef_resource_type_association', WRITE, 'POST /v2/metadefs/namespaces/{namespace_name}/resource_types'),
  rule('remove_metadef_resource_type_association', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}/resource_types/{name}'),
  rule('get_metadef_property', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}'),
  rule('get_metadef_properties', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/properties'),
  rule('modify_metadef_property', WRITE, 'PUT /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}'),
  rule('add_metadef_property', WRITE, 'POST /v2/metadefs/namespaces/{namespace_name}/properties'),
  rule('remove_metadef_property', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}/properties/{property_name}'),
  rule('get_metadef_tag', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}'),
  rule('get_metadef_tags', READ, 'GET /v2/metadefs/namespaces/{namespace_name}/tags'),
  rule('modify_metadef_tag', WRITE, 'PUT /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}'),
  rule('add_metadef_tag', WRITE, 'POST /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}'),
  rule('add_metadef_tags', WRITE, 'POST /v2/metadefs/namespaces/{namespace_name}/tags'),
  rule('delete_metadef_tag', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}'),
  rule('delete_metadef_tags', WRITE, 'DELETE /v2/metadefs/namespaces/{namespace_name}/tags'),
];
