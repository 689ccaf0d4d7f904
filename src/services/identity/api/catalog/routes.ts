import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../../../common/errors.js';
import type { IdentityApi } from '../context.js';
import { checkEndpointUrl, type EndpointInput } from '../../managers/catalog.js';
import { applyFilters, collection, extraOf, paramsOf, queryOf, requireMatchingId } from './common.js';
import { EndpointCreateBody, EndpointUpdateBody, RegionCreateBody, RegionUpdateBody, ServiceCreateBody, ServiceUpdateBody } from './schemas.js';
import { renderEndpoint, renderRegion, renderService } from './view.js';
import { epFilterRoutes } from './ep-filter.js';

const REGION_FIELDS = ['description', 'parent_region_id'] as const;
const SERVICE_FIELDS = ['type', 'enabled'] as const;
const ENDPOINT_FIELDS = ['service_id', 'region_id', 'region', 'interface', 'url', 'enabled', 'legacy_endpoint_id'] as const;

type Body = Record<string, unknown>;
const member = (request: FastifyRequest, key: string): Body => (request.body as Record<string, Body>)[key] as Body;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** /v3/regions, /v3/services, /v3/endpoints (and OS-EP-FILTER, see ep-filter.ts). */
export async function catalogRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const v3 = (request: FastifyRequest) => api.v3Url(request);

  // ---- regions ----

  app.get('/v3/regions', async (request) => {
    await api.guard(request, 'identity:list_regions');
    const regions = applyFilters(await service.catalog.listRegions(), queryOf(request), { parent_region_id: (r) => r.parentRegionId, id: (r) => r.id });
    return collection(api, request, 'regions', '/regions', regions.map((r) => renderRegion(v3(request), r)));
  });

  app.get('/v3/regions/:region_id', async (request) => {
    await api.guard(request, 'identity:get_region');
    return { region: renderRegion(v3(request), await service.catalog.getRegion(paramsOf(request).region_id ?? '')) };
  });

  const createRegion = async (request: FastifyRequest, id: string | undefined) => {
    const body = member(request, 'region');
    const region = await service.catalog.createRegion({
      id,
      description: body.description as string | null | undefined,
      parentRegionId: body.parent_region_id as string | null | undefined,
      extra: extraOf(body, REGION_FIELDS),
    });
    return { region: renderRegion(v3(request), region) };
  };

  app.post('/v3/regions', { schema: { body: RegionCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_region');
    const result = await createRegion(request, str(member(request, 'region').id));
    reply.code(201);
    return result;
  });

  app.put('/v3/regions/:region_id', { schema: { body: RegionCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_region');
    const id = paramsOf(request).region_id ?? '';
    const bodyId = member(request, 'region').id;
    if (bodyId !== undefined && bodyId !== id) throw badRequest(`Conflicting region IDs specified: "${id}" != "${String(bodyId)}"`);
    const result = await createRegion(request, id);
    reply.code(201);
    return result;
  });

  app.patch('/v3/regions/:region_id', { schema: { body: RegionUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_region');
    const id = paramsOf(request).region_id ?? '';
    const body = member(request, 'region');
    requireMatchingId(body, id);
    const region = await service.catalog.updateRegion(id, {
      description: body.description as string | null | undefined,
      parentRegionId: body.parent_region_id as string | null | undefined,
      extra: extraOf(body, REGION_FIELDS),
    });
    return { region: renderRegion(v3(request), region) };
  });

  app.delete('/v3/regions/:region_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_region');
    await service.catalog.deleteRegion(paramsOf(request).region_id ?? '');
    reply.code(204).send();
  });

  // ---- services ----

  app.get('/v3/services', async (request) => {
    await api.guard(request, 'identity:list_services');
    const services = applyFilters(await service.catalog.listServices(), queryOf(request), { type: (s) => s.type, name: (s) => s.extra.name });
    return collection(api, request, 'services', '/services', services.map((s) => renderService(v3(request), s)));
  });

  app.get('/v3/services/:service_id', async (request) => {
    await api.guard(request, 'identity:get_service');
    return { service: renderService(v3(request), await service.catalog.getService(paramsOf(request).service_id ?? '')) };
  });

  app.post('/v3/services', { schema: { body: ServiceCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_service');
    const body = member(request, 'service');
    const created = await service.catalog.addService({ type: body.type as string, enabled: body.enabled as boolean | undefined, extra: extraOf(body, SERVICE_FIELDS) });
    reply.code(201);
    return { service: renderService(v3(request), created) };
  });

  app.patch('/v3/services/:service_id', { schema: { body: ServiceUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_service');
    const id = paramsOf(request).service_id ?? '';
    const body = member(request, 'service');
    requireMatchingId(body, id);
    const updated = await service.catalog.updateService(id, { type: str(body.type), enabled: body.enabled as boolean | undefined, extra: extraOf(body, SERVICE_FIELDS) });
    return { service: renderService(v3(request), updated) };
  });

  app.delete('/v3/services/:service_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_service');
    await service.catalog.deleteService(paramsOf(request).service_id ?? '');
    reply.code(204).send();
  });

  // ---- endpoints ----

  /**
   * The v2-style `region` attribute names a region that Keystone creates on the fly;
   * `region_id` must name an existing one. The service is checked first so a refused
   * endpoint leaves no region behind.
   */
  const endpointInput = async (body: Body): Promise<EndpointInput> => {
    const serviceId = str(body.service_id);
    if (serviceId !== undefined && !(await service.catalog.findService(serviceId))) {
      throw badRequest('Expecting to find endpoint service_id in service table. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    }
    const url = str(body.url);
    if (url !== undefined) checkEndpointUrl(url);
    let regionId: string | undefined = str(body.region_id);
    const legacy = str(body.region);
    if (regionId === undefined && legacy !== undefined) {
      regionId = legacy;
      if (!(await service.catalog.findRegion(legacy))) await service.catalog.createRegion({ id: legacy });
    }
    return {
      serviceId,
      regionId,
      interface: str(body.interface),
      url,
      enabled: body.enabled as boolean | undefined,
      extra: extraOf(body, ENDPOINT_FIELDS),
    };
  };

  app.get('/v3/endpoints', async (request) => {
    await api.guard(request, 'identity:list_endpoints');
    const endpoints = applyFilters(await service.catalog.listEndpoints(), queryOf(request), {
      interface: (e) => e.interface,
      service_id: (e) => e.serviceId,
      region_id: (e) => e.regionId,
    });
    return collection(api, request, 'endpoints', '/endpoints', endpoints.map((e) => renderEndpoint(v3(request), e)));
  });

  app.get('/v3/endpoints/:endpoint_id', async (request) => {
    await api.guard(request, 'identity:get_endpoint');
    return { endpoint: renderEndpoint(v3(request), await service.catalog.getEndpoint(paramsOf(request).endpoint_id ?? '')) };
  });

  app.post('/v3/endpoints', { schema: { body: EndpointCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_endpoint');
    const input = await endpointInput(member(request, 'endpoint'));
    const created = await service.catalog.addEndpoint({ ...input, serviceId: input.serviceId ?? '', interface: input.interface ?? '', url: input.url ?? '' });
    reply.code(201);
    return { endpoint: renderEndpoint(v3(request), created) };
  });

  app.patch('/v3/endpoints/:endpoint_id', { schema: { body: EndpointUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_endpoint');
    const id = paramsOf(request).endpoint_id ?? '';
    const body = member(request, 'endpoint');
    requireMatchingId(body, id);
    await service.catalog.getEndpoint(id);
    const updated = await service.catalog.updateEndpoint(id, await endpointInput(body));
    return { endpoint: renderEndpoint(v3(request), updated) };
  });

  app.delete('/v3/endpoints/:endpoint_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_endpoint');
    await service.catalog.deleteEndpoint(paramsOf(request).endpoint_id ?? '');
    reply.code(204).send();
  });

  await epFilterRoutes(app, api);
}
