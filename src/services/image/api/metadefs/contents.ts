import type { FastifyInstance } from 'fastify';
import type { ObjectInput } from '../../metadefs/service.js';
import { validateBody } from '../../metadefs/schemas.js';
import type { PropertyDefinition } from '../../metadefs/model.js';
import { propertyMap, renderAssociation, renderObject, renderProperty, renderResourceType, renderTag } from '../../metadefs/view.js';
import type { MetadefApi } from './context.js';
import { metadefBody } from './namespaces.js';

type Ns = { namespace: string };
type Named = Ns & { name: string };
const BASE = '/v2/metadefs/namespaces/:namespace';

const truthy = (value: unknown): boolean => typeof value === 'string' && ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase());

/** Objects, properties, tags and resource-type associations of a namespace; the resource type list. */
export async function namespaceContentRoutes(app: FastifyInstance, api: MetadefApi): Promise<void> {
  const { metadefs, contents } = api;

  // Objects
  app.get<{ Params: Ns }>(`${BASE}/objects`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_objects');
    const ns = request.params.namespace;
    const detail = await metadefs.showNamespace(caller, ns);
    return { objects: detail.objects.map((o) => renderObject(ns, o)), schema: 'v2/schemas/metadefs/objects' };
  });
  app.post<{ Params: Ns }>(`${BASE}/objects`, async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_object');
    const obj = await contents.createObject(caller, request.params.namespace, metadefBody<ObjectInput>(request, 'object'));
    reply.code(201);
    return renderObject(request.params.namespace, obj);
  });
  app.delete<{ Params: Ns }>(`${BASE}/objects`, async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_namespace');
    await metadefs.deleteAllOf(caller, request.params.namespace, 'objects');
    return reply.code(204).send();
  });
  app.get<{ Params: Named }>(`${BASE}/objects/:name`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_object');
    return renderObject(request.params.namespace, await contents.getObject(caller, request.params.namespace, request.params.name));
  });
  app.put<{ Params: Named }>(`${BASE}/objects/:name`, async (request) => {
    const caller = await api.guard(request, 'modify_metadef_object');
    const obj = await contents.updateObject(caller, request.params.namespace, request.params.name, metadefBody<ObjectInput>(request, 'object'));
    return renderObject(request.params.namespace, obj);
  });
  app.delete<{ Params: Named }>(`${BASE}/objects/:name`, async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_object');
    await contents.deleteObject(caller, request.params.namespace, request.params.name);
    return reply.code(204).send();
  });

  // Properties
  app.get<{ Params: Ns }>(`${BASE}/properties`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_properties');
    return { properties: propertyMap(await contents.listProperties(caller, request.params.namespace)) };
  });
  app.post<{ Params: Ns }>(`${BASE}/properties`, async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_property');
    const prop = await contents.createProperty(caller, request.params.namespace, metadefBody<PropertyDefinition>(request, 'property'));
    reply.code(201);
    return renderProperty(prop);
  });
  app.delete<{ Params: Ns }>(`${BASE}/properties`, async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_namespace');
    await metadefs.deleteAllOf(caller, request.params.namespace, 'properties');
    return reply.code(204).send();
  });
  app.get<{ Params: Named; Querystring: { resource_type?: string } }>(`${BASE}/properties/:name`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_property');
    const resourceType = request.query.resource_type;
    if (resourceType) await api.guard(request, 'get_metadef_resource_type');
    return renderProperty(await contents.getProperty(caller, request.params.namespace, request.params.name, resourceType || undefined));
  });
  app.put<{ Params: Named }>(`${BASE}/properties/:name`, async (request) => {
    const caller = await api.guard(request, 'modify_metadef_property');
    const prop = await contents.updateProperty(caller, request.params.namespace, request.params.name, metadefBody<PropertyDefinition>(request, 'property'));
    return renderProperty(prop);
  });
  app.delete<{ Params: Named }>(`${BASE}/properties/:name`, async (request, reply) => {
    const caller = await api.guard(request, 'remove_metadef_property');
    await contents.deleteProperty(caller, request.params.namespace, request.params.name);
    return reply.code(204).send();
  });

  // Tags
  app.get<{ Params: Ns }>(`${BASE}/tags`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_tags');
    return { tags: (await contents.listTags(caller, request.params.namespace)).map((t) => ({ name: t.name })) };
  });
  app.post<{ Params: Ns }>(`${BASE}/tags`, async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_tags');
    const body = metadefBody<{ tags?: { name: string }[] }>(request, 'tags');
    const append = truthy(request.headers['x-openstack-append']);
    const tags = await contents.createTags(caller, request.params.namespace, (body.tags ?? []).map((t) => t.name), append);
    reply.code(201);
    return { tags: tags.map((t) => ({ name: t.name })) };
  });
  app.delete<{ Params: Ns }>(`${BASE}/tags`, async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_namespace');
    await api.guard(request, 'delete_metadef_tags');
    await metadefs.deleteAllOf(caller, request.params.namespace, 'tags');
    return reply.code(204).send();
  });
  app.get<{ Params: Named }>(`${BASE}/tags/:name`, async (request) => {
    const caller = await api.guard(request, 'get_metadef_tag');
    return renderTag(await contents.getTag(caller, request.params.namespace, request.params.name));
  });
  app.post<{ Params: Named }>(`${BASE}/tags/:name`, async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_tag');
    validateBody('tag', { name: request.params.name });
    const tag = await contents.createTag(caller, request.params.namespace, request.params.name);
    reply.code(201);
    return renderTag(tag);
  });
  app.put<{ Params: Named }>(`${BASE}/tags/:name`, async (request) => {
    const caller = await api.guard(request, 'modify_metadef_tag');
    const body = metadefBody<{ name: string }>(request, 'tag');
    return renderTag(await contents.updateTag(caller, request.params.namespace, request.params.name, body.name));
  });
  app.delete<{ Params: Named }>(`${BASE}/tags/:name`, async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_tag');
    await contents.deleteTag(caller, request.params.namespace, request.params.name);
    return reply.code(204).send();
  });

  // Resource types
  app.get('/v2/metadefs/resource_types', async (request) => {
    await api.guard(request, 'list_metadef_resource_types');
    return { resource_types: (await contents.listResourceTypes()).map(renderResourceType) };
  });
  app.get<{ Params: Ns }>(`${BASE}/resource_types`, async (request) => {
    const caller = await api.guard(request, 'list_metadef_resource_types');
    await api.guard(request, 'get_metadef_resource_type');
    return { resource_type_associations: (await contents.associations(caller, request.params.namespace)).map(renderAssociation) };
  });
  app.post<{ Params: Ns }>(`${BASE}/resource_types`, async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_resource_type_association');
    const body = metadefBody<{ name: string; prefix?: string; properties_target?: string }>(request, 'resource_type');
    const assoc = await contents.associate(caller, request.params.namespace, body);
    reply.code(201);
    return renderAssociation(assoc);
  });
  app.delete<{ Params: Named }>(`${BASE}/resource_types/:name`, async (request, reply) => {
    const caller = await api.guard(request, 'remove_metadef_resource_type_association');
    await contents.dissociate(caller, request.params.namespace, request.params.name);
    return reply.code(204).send();
  });
}
