import type { AssignmentRef, NameBook, NamedEntity } from '../../managers/assignments.js';

const EMPTY: NamedEntity = { name: '', domainId: '', domainName: '' };

function withDomain(id: string, entity: NamedEntity | undefined): Record<string, unknown> {
  const e = entity ?? EMPTY;
  return { id, name: e.name, domain: { id: e.domainId ?? '', name: e.domainName ?? '' } };
}

/**
 * One entry of GET /v3/role_assignments in Keystone's format. Its `links.assignment` points
 * at the grant API call that created it (the group's grant for a membership, the parent's
 * OS-INHERIT grant for an inherited one, the prior role for an implied one).
 */
export function renderAssignment(v3Url: string, ref: AssignmentRef, names: NameBook | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const links: Record<string, string> = {};
  let scope: Record<string, unknown> = {};
  let link = '';
  let inherited = ref.inherited;

  if (ref.projectId) {
    scope = { project: names ? withDomain(ref.projectId, names.projects.get(ref.projectId)) : { id: ref.projectId } };
    if (ref.indirect.domainId) {
      inherited = true;
      link = `/domains/${ref.indirect.domainId}`;
    } else if (ref.indirect.projectId) {
      inherited = true;
      link = `/projects/${ref.indirect.projectId}`;
    } else {
      link = `/projects/${ref.projectId}`;
    }
  } else if (ref.domainId) {
    scope = { domain: names ? { id: ref.domainId, name: names.domains.get(ref.domainId)?.name ?? '' } : { id: ref.domainId } };
    link = `/domains/${ref.domainId}`;
  } else if (ref.system) {
    scope = { system: { all: true } };
    link = '/system';
  }

  if (ref.userId) {
    out.user = names ? withDomain(ref.userId, names.users.get(ref.userId)) : { id: ref.userId };
    if (ref.indirect.groupId) {
      links.membership = `${v3Url}/groups/${ref.indirect.groupId}/users/${ref.userId}`;
      link += `/groups/${ref.indirect.groupId}`;
    } else {
      link += `/users/${ref.userId}`;
    }
  } else if (ref.groupId) {
    out.group = names ? withDomain(ref.groupId, names.groups.get(ref.groupId)) : { id: ref.groupId };
    link += `/groups/${ref.groupId}`;
  }

  const role = names?.roles.get(ref.roleId);
  if (names) {
    out.role = { id: ref.roleId, name: role?.name ?? '', ...(role?.domainId ? { domain: { id: role.domainId, name: role.domainName ?? '' } } : {}) };
  } else {
    out.role = { id: ref.roleId };
  }
  let priorRoleLink = '';
  if (ref.indirect.roleId) {
    link += `/roles/${ref.indirect.roleId}`;
    // Keystone's exact (odd) shape: /prior_role/{this role}/implies/{the role that implied it}.
    priorRoleLink = `/prior_role/${ref.roleId}/implies/${ref.indirect.roleId}`;
  } else {
    link += `/roles/${ref.roleId}`;
  }

  if (inherited) {
    scope['OS-INHERIT:inherited_to'] = 'projects';
    link = `/OS-INHERIT${link}/inherited_to_projects`;
  }
  links.assignment = `${v3Url}${link}`;
  if (priorRoleLink) links.prior_role = `${v3Url}${priorRoleLink}`;
  out.scope = scope;
  out.links = links;
  return out;
}
