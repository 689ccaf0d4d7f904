import type { Domain } from '../../model/types.js';

/** A domain as Keystone renders it: a project's fields without domain_id, parent_id and is_domain. */
export function renderDomain(v3Url: string, domain: Domain): Record<string, unknown> {
  return {
    ...domain.extra,
    id: domain.id,
    name: domain.name,
    description: domain.description,
    enabled: domain.enabled,
    tags: domain.tags,
    options: domain.options,
    links: { self: `${v3Url}/domains/${domain.id}` },
  };
}
