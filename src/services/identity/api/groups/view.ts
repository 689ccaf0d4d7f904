import type { GroupEntity } from '../../managers/groups.js';

/** A group as Keystone renders it: core attributes, then extras at top level. */
export function renderGroup(v3Url: string, group: GroupEntity): Record<string, unknown> {
  return {
    ...group.extra,
    id: group.id,
    name: group.name,
    domain_id: group.domainId,
    description: group.description,
    links: { self: `${v3Url}/groups/${group.id}` },
  };
}

/** GET /v3/users/{id}/groups adds the membership's expiry (always null for local memberships). */
export function renderGroupMembership(v3Url: string, group: GroupEntity): Record<string, unknown> {
  return { ...renderGroup(v3Url, group), membership_expires_at: null };
}
