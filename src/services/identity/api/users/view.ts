import type { User } from '../../model/types.js';

/** Keystone prints password expiry as a naive UTC datetime with microseconds. */
export function formatExpiry(date: Date | null): string | null {
  return date ? date.toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null;
}

/**
 * A user as Keystone renders it: extras at top level, default_project_id only when set.
 * Updates also echo the extras as `extra` (Keystone's include_extra_dict on PATCH).
 */
export function renderUser(v3Url: string, user: User, opts: { withExtraDict?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...user.extra,
    id: user.id,
    name: user.name,
    domain_id: user.domainId,
    enabled: user.enabled,
    password_expires_at: formatExpiry(user.passwordExpiresAt),
    options: user.options,
    links: { self: `${v3Url}/users/${user.id}` },
  };
  if (user.defaultProjectId) out.default_project_id = user.defaultProjectId;
  if (opts.withExtraDict) out.extra = user.extra;
  return out;
}
