import type { Endpoint, Region, Service } from '../../managers/catalog.js';
import type { EndpointGroup } from '../../managers/extras.js';

export function renderRegion(v3Url: string, region: Region): Record<string, unknown> {
  return {
    ...region.extra,
    id: region.id,
    description: region.description,
    parent_region_id: region.parentRegionId,
    links: { self: `${v3Url}/regions/${region.id}` },
  };
}

export function renderService(v3Url: string, service: Service): Record<string, unknown> {
  return {
    ...service.extra,
    id: service.id,
    type: service.type,
    enabled: service.enabled,
    links: { self: `${v3Url}/services/${service.id}` },
  };
}

/** `region` repeats region_id for clients of the v2-style field. */
export function renderEndpoint(v3Url: string, endpoint: Endpoint): Record<string, unknown> {
  return {
    ...endpoint.extra,
    id: endpoint.id,
    interface: endpoint.interface,
    region_id: endpoint.regionId,
    region: endpoint.regionId,
    service_id: endpoint.serviceId,
    url: endpoint.url,
    enabled: endpoint.enabled,
    links: { self: `${v3Url}/endpoints/${endpoint.id}` },
  };
}

export function renderEndpointGroup(v3Url: string, group: EndpointGroup): Record<string, unknown> {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    filters: group.filters,
    links: { self: `${v3Url}/OS-EP-FILTER/endpoint_groups/${group.id}` },
  };
}
