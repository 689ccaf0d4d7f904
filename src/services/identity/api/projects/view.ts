import type { Project } from '../../model/types.js';

/** A project as Keystone renders it: core fields, then extra attributes at top level. */
export function renderProject(v3Url: string, project: Project): Record<string, unknown> {
  return {
    ...project.extra,
    id: project.id,
    name: project.name,
    domain_id: project.domainId,
    description: project.description,
    enabled: project.enabled,
    parent_id: project.parentId,
    is_domain: project.isDomain,
    tags: project.tags,
    options: project.options,
    links: { self: `${v3Url}/projects/${project.id}` },
  };
}
