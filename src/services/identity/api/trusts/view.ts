import type { Role } from '../../model/types.js';
import type { Trust } from '../../managers/trusts.js';
import { renderRole } from '../roles/view.js';

/** Keystone prints trust expiry with utils.isotime(subsecond=True): microseconds zeroed, 'Z' suffix. */
function trustExpiry(stored: string | null): string | null {
  return stored ? stored.replace(/\.\d+Z$/, '.000000Z') : null;
}

/** Trust roles render exactly as roles do. */
export const renderTrustRole = renderRole;

/** A trust; `roles` is given for single-trust responses (lists leave roles out, as Keystone does). */
export function renderTrust(v3Url: string, trust: Trust, roles?: Role[]): Record<string, unknown> {
  const self = `${v3Url}/OS-TRUST/trusts/${trust.id}`;
  const out: Record<string, unknown> = {
    ...trust.extra,
    id: trust.id,
    trustor_user_id: trust.trustorUserId,
    trustee_user_id: trust.trusteeUserId,
    project_id: trust.projectId,
    impersonation: trust.impersonation,
    expires_at: trustExpiry(trust.expiresAt),
    remaining_uses: trust.remainingUses,
    allow_redelegation: trust.allowRedelegation,
    redelegation_count: trust.redelegationCount,
    redelegated_trust_id: trust.redelegatedTrustId,
    deleted_at: trust.deletedAt,
    links: { self },
  };
  if (roles) {
    out.roles = roles.map((r) => renderTrustRole(v3Url, r));
    out.roles_links = { self: `${self}/roles`, previous: null, next: null };
  }
  return out;
}
