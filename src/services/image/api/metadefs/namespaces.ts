import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '../../../../common/errors.js';
import type { NamespaceInput, NamespaceListQuery } from '../../metadefs/service.js';
import { validateBody, type MetadefSchemaName } from '../../metadefs/schemas.js';
import type { NamespaceVisibility } from '../../metadefs/model.js';
import { renderNamespace } from '../../metadefs/view.js';
import type { MetadefApi } from './context.js';

type Query = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Fields the server owns: 403 "Attribute '<x>' is read-only." before any schema check, as Glance. */
const READ_ONLY = ['self', 'schema', 'created_at', 'updated_at'];

/** The JSON body of a metadef write, checked against its Glance schema. */
export function metadefBody<T>(request: FastifyRequest, schema: MetadefSchemaName): T {
  const body = request.body;
  if (body === undefined) throw badRequest('Body expected in request.');
  // The schemas have no top-level type (as Glance's); a JSON array, string or null is still refused.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`Provided object does not match schema '${schema}': ${JSON.stringify(body).slice(0, 100)} is not of type 'object'`);
  for (const key of READ_ONLY) if (key in body) throw forbidden(`Attribute '${key}' is read-only.`);
  validateBody(schema, body);
  return body as T;
}

function listQuery(query: Query, defaults: { limit: number; max: number }): NamespaceListQuery {
  const limitText = first(query.limit);
  let limit = defaults.limit;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText)) throw badRequest('limit param must be an integer');
    limit = Number(limitText);
    if (limit < 0) throw badRequest('limit param must be positive');
  }
  const sortDir = first(query.sort_dir) ?? 'desc';
  if (sortDir !== 'asc' && sortDir !== 'desc') throw badRequest(`Invalid sort direction: ${sortDir}`);
  const visibility = first(query.visibility);
  if (visibility !== undefined && visibility !== 'public' && visibility !== 'private') throw badRequest(`Invalid visibility value: ${visibility}`);
  const resourceTypes = first(query.resource_types);
  return {
    limit: Math.min(limit, defaults.max),
    marker: first(query.marker),
    sortKey: first(query.sort_key) ?? 'created_at',
    sortDir,
    visibility: visibility as NamespaceVisibility | undefined,
    resourceTypes: resourceTypes === undefined ? undefined : resourceTypes.split(',').map((s) => s.trim()).filter(Boolean),
  };
}

function listLinks(query: Query, next: string | null): { first: string; next?: string } {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (key === 'marker' || value === undefined) continue;
    for (const v of [value].flat()) params.append(key, v);
  }
  const base = '/v2/metadefs/namespaces';
  const firstLink = params.size ? `${base}?${params.toString()}` : base;
  if (next === null) return { first: firstLink };
  params.append('marker', next);
  return { first: firstLink, next: `${base}?${params.toString()}` };
}

type Ns = { namespace: string };

/** /v2/metadefs/namespaces and one namespace. */
export async function namespaceRoutes(app: FastifyInstance, api: MetadefApi): Promise<void> {
  const { metadefs } = api;

  app.get('/v2/metadefs/namespaces', async (request) => {
    const caller = await api.guard(request, 'get_metadef_namespaces');
    await api.guard(request, 'list_metadef_resource_types');
    const query = request.query as Query;
    const cfg = api.config;
    const page = await metadefs.listNamespaces(caller, listQuery(query, { limit: cfg.limit_param_default, max: cfg.api_limit_max }));
    return {
      namespaces: page.namespaces.map((d) => renderNamespace(d)),
      ...listLinks(query, page.next),
      schema: '/v2/schemas/metadefs/namespaces',
    };
  });

  app.post('/v2/metadefs/namespaces', async (request, reply) => {
    const caller = await api.guard(request, 'add_metadef_namespace');
    const input = metadefBody<NamespaceInput>(request, 'namespace');
    if (input.resource_type_associations?.length) await api.guard(request, 'add_metadef_resource_type_association');
    if (input.objects?.length) await api.guard(request, 'add_metadef_object');
    if (input.properties && Object.keys(input.properties).length) await api.guard(request, 'add_metadef_property');
    if (input.tags?.length) await api.guard(request, 'add_metadef_tag');
    const detail = await metadefs.createNamespace(caller, input);
    reply.code(201).header('location', encodeURI(`/v2/metadefs/namespaces/${detail.namespace.namespace}`));
    return renderNamespace(detail);
  });

  app.get<{ Params: Ns }>('/v2/metadefs/namespaces/:namespace', async (request) => {
    const caller = await api.guard(request, 'get_metadef_namespace');
    const resourceType = first((request.query as Query).resource_type);
    return renderNamespace(await metadefs.showNamespace(caller, request.params.namespace), resourceType);
  });

  app.put<{ Params: Ns }>('/v2/metadefs/namespaces/:namespace', async (request) => {
    const caller = await api.guard(request, 'modify_metadef_namespace');
    const input = metadefBody<NamespaceInput>(request, 'namespace');
    const updated = await metadefs.updateNamespace(caller, request.params.namespace, input);
    return renderNamespace({ namespace: updated, objects: [], properties: [], tags: [], resourceTypes: [] });
  });

  app.delete<{ Params: Ns }>('/v2/metadefs/namespaces/:namespace', async (request, reply) => {
    const caller = await api.guard(request, 'delete_metadef_namespace');
    await metadefs.deleteNamespace(caller, request.params.namespace);
    return reply.code(204).send();
  });
}
