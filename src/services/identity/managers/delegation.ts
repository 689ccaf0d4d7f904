import { badRequest, notFound } from '../../../common/errors.js';
import type { Role } from '../model/types.js';
import type { IdentityService } from '../service.js';

/**
 * Shared by trusts and application credentials: expiry timestamps as Keystone parses
 * them, and role references given by id or by name.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?Z$/;

/**
 * Keystone's utils.parse_expiration_date: a 'Z' is appended when missing (so explicit
 * offsets are refused, as there), malformed → 400, in the past → 400. Returns the
 * instant as stored text, 'YYYY-MM-DDTHH:MM:SS.ffffffZ', keeping the caller's
 * microseconds (clients compare them back).
 */
export function parseExpiry(text: string, now: Date): string {
  const candidate = text.endsWith('Z') ? text : `${text}Z`;
  const m = ISO.exec(candidate);
  const invalid = () =>
    badRequest('Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
  if (!m) throw invalid();
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = ''] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(ms);
  // Date.UTC rolls 2024-02-31 over to March: a real calendar date round-trips unchanged.
  if (
    Number.isNaN(ms) ||
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(s)
  ) {
    throw invalid();
  }
  const micros = frac.padEnd(6, '0').slice(0, 6);
  const stored = `${date.toISOString().slice(0, 19)}.${micros}Z`;
  if (expiryTime(stored) < now.getTime()) {
    throw badRequest("The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
  }
  return stored;
}

/** Milliseconds since the epoch of a stored expiry (sub-millisecond digits dropped). */
export function expiryTime(stored: string): number {
  return Date.parse(stored.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}

/** True when a stored expiry has passed. */
export function isExpired(stored: string | null, now: Date): boolean {
  return stored !== null && expiryTime(stored) <= now.getTime();
}

/** True for a unique/primary-key violation on either engine (a lost check-then-insert race). */
export function isUniqueViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export type RoleRef = { id: string; name?: undefined } | { name: string; id?: undefined };

/**
 * Resolves [{id} | {name}] to role ids (Keystone's _normalize_role_list): names must
 * name a global role (404 otherwise); ids are checked later against what the user holds.
 */
export async function resolveRoleRefs(svc: IdentityService, refs: readonly RoleRef[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    if (ref.id !== undefined) {
      ids.push(ref.id);
      continue;
    }
    const role = await svc.roles.findByName(ref.name, null);
    if (!role) throw notFound(`Could not find role: ${ref.name}.`);
    ids.push(role.id);
  }
  return [...new Set(ids)];
}

/** Role ids a user holds on a project, implied roles and domain-specific roles included. */
export async function heldRoleIds(svc: IdentityService, userId: string, projectId: string): Promise<Set<string>> {
  const direct = await svc.assignments.directRoleIds(userId, { kind: 'project', projectId });
  if (direct.size === 0) return direct;
  return svc.roles.expandImplied(direct);
}

/** Roles in a stable order for responses. */
export async function rolesInOrder(svc: IdentityService, ids: readonly string[]): Promise<Role[]> {
  const roles = await svc.roles.rolesByIds(ids);
  return roles.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
