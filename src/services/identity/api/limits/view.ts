import type { Limit, RegisteredLimit } from '../../managers/limits.js';

export function renderRegisteredLimit(v3Url: string, r: RegisteredLimit): Record<string, unknown> {
  return {
    id: r.id,
    service_id: r.serviceId,
    region_id: r.regionId,
    resource_name: r.resourceName,
    default_limit: r.defaultLimit,
    description: r.description,
    links: { self: `${v3Url}/registered_limits/${r.id}` },
  };
}

export function renderLimit(v3Url: string, l: Limit): Record<string, unknown> {
  return {
    id: l.id,
    project_id: l.projectId,
    domain_id: l.domainId,
    service_id: l.serviceId,
    region_id: l.regionId,
    resource_name: l.resourceName,
    resource_limit: l.resourceLimit,
    description: l.description,
    links: { self: `${v3Url}/limits/${l.id}` },
  };
}
