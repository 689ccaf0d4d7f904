import type { Role } from '../../model/types.js';
import type { AccessRule, AppCred } from '../../managers/app-creds.js';

/** A role inside an application credential: the role as stored, without links (as Keystone returns it). */
export function renderCredRole(role: Role): Record<string, unknown> {
  return { ...role.extra, id: role.id, name: role.name, domain_id: role.domainId, description: role.description, options: role.options };
}

/**
 * An application credential. expires_at keeps the microseconds it was created with and has no
 * zone suffix: Keystone serialises the stored datetime as '%Y-%m-%dT%H:%M:%S.%f'.
 */
export function renderAppCred(v3Url: string, cred: AppCred, roles: Role[], secret?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: cred.id,
    name: cred.name,
    description: cred.description,
    user_id: cred.userId,
    project_id: cred.projectId,
    system: cred.system,
    expires_at: cred.expiresAt ? cred.expiresAt.replace(/Z$/, '') : null,
    unrestricted: cred.unrestricted,
    roles: roles.map(renderCredRole),
    links: { self: `${v3Url}/users/${cred.userId}/application_credentials/${cred.id}` },
  };
  if (cred.accessRules) out.access_rules = cred.accessRules.map((r) => ({ id: r.id, service: r.service, path: r.path, method: r.method }));
  if (secret !== undefined) out.secret = secret;
  return out;
}

export function renderAccessRule(v3Url: string, userId: string, rule: AccessRule): Record<string, unknown> {
  return { id: rule.id, service: rule.service, path: rule.path, method: rule.method, links: { self: `${v3Url}/users/${userId}/access_rules/${rule.id}` } };
}
