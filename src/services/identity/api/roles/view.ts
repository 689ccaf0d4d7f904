import type { Role } from '../../model/types.js';
import type { RoleInference } from '../../managers/roles.js';

/** A role as Keystone renders it: extra attributes at top level, then the core fields. */
export function renderRole(v3Url: string, role: Role): Record<string, unknown> {
  return {
    ...role.extra,
    id: role.id,
    name: role.name,
    domain_id: role.domainId,
    description: role.description,
    options: role.options,
    links: { self: `${v3Url}/roles/${role.id}` },
  };
}

/** The short role reference used inside role_inference bodies. */
export function renderRoleRef(v3Url: string, role: Role): Record<string, unknown> {
  return { id: role.id, name: role.name, links: { self: `${v3Url}/roles/${role.id}` } };
}

export function renderInference(v3Url: string, inference: RoleInference): Record<string, unknown> {
  return { prior_role: renderRoleRef(v3Url, inference.prior), implies: inference.implies.map((r) => renderRoleRef(v3Url, r)) };
}
