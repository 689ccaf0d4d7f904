import type { Project } from '../../model/types.js';

/** A project as Keystone renders it: extra attributes at top level, then the core fields. */
export function renderProject(v3Url: string, project: Project): Record<string, unknown> {
  return {
    ...project.extra,
    id: project.id,
    name: project.name,
    // A project acting as a domain has no domain of its own (Keystone stores the root sentinel and shows null).
    domain_id: project.isDomain ? null : project.domainId,
    description: project.description,
    enabled: project.enabled,
    parent_id: project.parentId,
    is_domain: project.isDomain,
    tags: project.tags,
    options: project.options,
    links: { self: `${v3Url}/projects/${project.id}` },
  };
}

/** Keystone's collection envelope; `truncated` appears only when list_limit cut the list. */
export function renderCollection(key: string, items: Record<string, unknown>[], self: string, truncated = false): Record<string, unknown> {
  const body: Record<string, unknown> = { [key]: items, links: { self, previous: null, next: null } };
  if (truncated) body.truncated = true;
  return body;
}
