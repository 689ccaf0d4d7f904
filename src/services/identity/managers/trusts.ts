import { badRequest, CloudError, conflict, forbidden, notFound, unauthorized } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import { parseJson, type TrustRow } from '../store/tables.js';
import { notify, type IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';
import type { TrustScoper } from './auth.js';
import type { TrustInfo } from './tokens.js';
import { expiryTime, heldRoleIds, isExpired, parseExpiry, resolveRoleRefs, type RoleRef } from './delegation.js';

export interface Trust {
  id: string;
  trustorUserId: string;
  trusteeUserId: string;
  projectId: string | null;
  impersonation: boolean;
  /** Stored as 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; null never expires. */
  expiresAt: string | null;
  remainingUses: number | null;
  allowRedelegation: boolean;
  redelegationCount: number | null;
  redelegatedTrustId: string | null;
  deletedAt: string | null;
  /** Unknown attributes of the create request, returned as Keystone does. */
  extra: Record<string, unknown>;
  roleIds: string[];
}

/** POST /v3/OS-TRUST/trusts after schema validation. */
export interface NewTrust {
  trustorUserId: string;
  trusteeUserId: string;
  impersonation: boolean;
  projectId?: string | null;
  roles?: RoleRef[];
  expiresAt?: string | null;
  remainingUses?: number | null;
  allowRedelegation?: boolean | null;
  redelegationCount?: number | null;
  extra?: Record<string, unknown>;
}

/** Who is creating the trust: a trust-scoped caller redelegates its own trust. */
export interface TrustCaller {
  userId: string;
  trustId?: string;
}

/** Bounds a redelegated trust by what its ancestor may still hand out. */
interface Redelegation {
  remainingUses: number | null;
  expiresAt: string | null;
  roleIds: string[];
  impersonation: boolean;
}

function trustFromRow(row: TrustRow, roleIds: string[]): Trust {
  return {
    id: row.id,
    trustorUserId: row.trustor_user_id,
    trusteeUserId: row.trustee_user_id,
    projectId: row.project_id,
    impersonation: row.impersonation === 1,
    expiresAt: row.expires_at,
    remainingUses: row.remaining_uses,
    allowRedelegation: row.allow_redelegation === 1,
    redelegationCount: row.redelegation_count,
    redelegatedTrustId: row.redelegated_trust_id,
    deletedAt: row.deleted_at,
    extra: parseJson(row.extra),
    roleIds,
  };
}

const notFoundTrust = (id: string) => notFound(`Could not find trust: ${id}.`);

/** OS-TRUST: trusts, their roles, redelegation, and trust-scoped authentication. */
export class TrustManager implements TrustScoper {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {}

  // ---- reads ----------------------------------------------------------------------------

  /** A usable trust (Keystone's get_trust): 404 when deleted, expired or used up; a broken redelegation chain is 403. */
  async getTrust(id: string): Promise<Trust> {
    const chain = await this.chain(id, this.core.clock.now());
    return chain[0];
  }

  /** Live (not deleted) trusts, without roles, optionally for one trustor or trustee. */
  async listTrusts(filter: { trustorUserId?: string; trusteeUserId?: string }): Promise<Trust[]> {
    let query = this.core.db.selectFrom('identity_trusts').selectAll().where('deleted_at', 'is', null);
    if (filter.trustorUserId !== undefined) query = query.where('trustor_user_id', '=', filter.trustorUserId);
    if (filter.trusteeUserId !== undefined) query = query.where('trustee_user_id', '=', filter.trusteeUserId);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => trustFromRow(row, []));
  }

  // ---- create / delete ------------------------------------------------------------------

  async createTrust(input: NewTrust, caller: TrustCaller): Promise<Trust> {
    const now = this.core.clock.now();
    const projectId = input.projectId || null;
    const refs = input.roles ?? [];
    if (projectId && refs.length === 0) throw forbidden('You are not authorized to perform the requested action: At least one role should be specified.');
    if (caller.userId !== input.trustorUserId) throw forbidden('You are not authorized to perform the requested action: The authenticated user should match the trustor.');
    if (!(await this.svc.users.findRow(input.trusteeUserId))) throw notFound(`Could not find user: ${input.trusteeUserId}.`);

    const roleIds = await resolveRoleRefs(this.svc, refs);
    let held = new Set<string>();
    if (projectId) {
      const project = await this.svc.resource.findProjectRow(projectId);
      if (!project || project.is_domain === 1) throw notFound(`Could not find project: ${projectId}.`);
      held = await heldRoleIds(this.svc, input.trustorUserId, projectId);
    }
    const missing = roleIds.find((r) => !held.has(r));
    if (missing) throw notFound(`Could not find role: ${missing}.`);
    let expiresAt = input.expiresAt != null ? parseExpiry(input.expiresAt, now) : null;

    const parent = caller.trustId ? await this.getTrust(caller.trustId) : null;
    const max = this.core.config.identity.max_redelegation_count;
    const requested = input.redelegationCount ?? undefined;
    const redelegatable = Boolean(input.allowRedelegation) && requested !== 0;
    let count: number | undefined = requested;
    if (!redelegatable) {
      count = 0;
    } else {
      if (requested !== undefined && requested > max) throw forbidden(`Requested redelegation depth of ${requested} is greater than allowed ${max}`);
      if (input.remainingUses != null) throw badRequest('remaining_uses must not be set if redelegation is allowed');
    }
    if (parent) {
      const remaining = (parent.redelegationCount ?? 0) - 1;
      if (redelegatable && requested && requested !== remaining) {
        throw forbidden('Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.');
      }
      count ??= remaining;
      // Every ancestor bounds the new trust, not just the direct parent.
      for (const ancestor of await this.chain(parent.id, now)) {
        expiresAt = this.checkRedelegation(ancestor, { remainingUses: input.remainingUses ?? null, expiresAt, roleIds, impersonation: input.impersonation });
      }
    }
    count ??= max;

    // Keystone's duplicate_trust_constraint; NULL columns never collide, as in SQL.
    if (projectId && expiresAt) {
      const dup = await this.core.db
        .selectFrom('identity_trusts')
        .select('id')
        .where('deleted_at', 'is', null)
        .where('trustor_user_id', '=', input.trustorUserId)
        .where('trustee_user_id', '=', input.trusteeUserId)
        .where('project_id', '=', projectId)
        .where('impersonation', '=', input.impersonation ? 1 : 0)
        .where('expires_at', '=', expiresAt)
        .executeTakeFirst();
      if (dup) throw conflict(`Conflict occurred attempting to store trust - Duplicate entry found with ID ${dup.id}.`);
    }

    const row: TrustRow = {
      id: hexId(),
      trustor_user_id: input.trustorUserId,
      trustee_user_id: input.trusteeUserId,
      project_id: projectId,
      impersonation: input.impersonation ? 1 : 0,
      expires_at: expiresAt,
      remaining_uses: input.remainingUses ?? null,
      allow_redelegation: redelegatable ? 1 : 0,
      redelegation_count: count,
      redelegated_trust_id: parent?.id ?? null,
      deleted_at: null,
      extra: JSON.stringify(input.extra ?? {}),
      created_at: isoMicro(now),
    };
    await this.core.db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_trusts').values(row).execute();
      if (roleIds.length) await trx.insertInto('identity_trust_roles').values(roleIds.map((roleId) => ({ trust_id: row.id, role_id: roleId }))).execute();
    });
    notify(this.core, 'trust', 'created', row.id);
    return trustFromRow(row, roleIds);
  }

  /** Deletes a trust and every trust redelegated from it; their tokens stop validating. */
  async deleteTrust(id: string): Promise<void> {
    await this.liveRow(id, this.core.clock.now());
    const ids = [id];
    for (let i = 0; i < ids.length; i++) {
      const children = await this.core.db.selectFrom('identity_trusts').select('id').where('redelegated_trust_id', '=', ids[i]).where('deleted_at', 'is', null).execute();
      for (const child of children) if (!ids.includes(child.id)) ids.push(child.id);
    }
    await this.softDelete(ids);
  }

  private async softDelete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const now = isoMicro(this.core.clock.now());
    await this.core.db.updateTable('identity_trusts').set({ deleted_at: now }).where('id', 'in', ids).where('deleted_at', 'is', null).execute();
    for (const id of ids) {
      await this.svc.revocations.revoke({ trust_id: id });
      notify(this.core, 'trust', 'deleted', id);
    }
  }

  // ---- authentication -------------------------------------------------------------------

  /** Trust-scoped authentication by `callerUserId` (the trustee): 401 for an unusable trust, 403 for the wrong user. */
  async scopeTo(trustId: string, callerUserId: string): Promise<{ projectId: string | null; impersonation: boolean; trustorUserId: string }> {
    let chain: Trust[];
    try {
      chain = await this.chain(trustId, this.core.clock.now());
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'not_found') throw unauthorized(err.message);
      throw err;
    }
    const trust = chain[0];
    if (callerUserId !== trust.trusteeUserId) throw forbidden('User is not a trustee.');
    const trustor = await this.svc.users.findRow(trust.trustorUserId);
    if (!trustor) throw unauthorized(`Could not find user: ${trust.trustorUserId}.`);
    if (trustor.enabled !== 1) throw forbidden('Trustor is disabled.');
    const domain = await this.svc.resource.findProjectRow(trustor.domain_id);
    if (!domain || domain.enabled !== 1) throw unauthorized('Trustor domain is disabled.');
    if (trust.projectId && !(await this.delegatedRoleIds(chain))) throw forbidden('Trustee has no delegated roles.');
    return { projectId: trust.projectId, impersonation: trust.impersonation, trustorUserId: trust.trustorUserId };
  }

  /** Uses up one of a limited trust's uses once its token is issued (optimistic, so concurrent uses can't overdraw). */
  async consume(trustId: string): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const row = await this.core.db.selectFrom('identity_trusts').select('remaining_uses').where('id', '=', trustId).where('deleted_at', 'is', null).executeTakeFirst();
      if (!row) throw unauthorized(`Could not find trust: ${trustId}.`);
      const uses = row.remaining_uses;
      if (uses === null) return;
      if (uses <= 0) throw forbidden(`No remaining uses for trust: ${trustId}.`);
      const result = await this.core.db
        .updateTable('identity_trusts')
        .set({ remaining_uses: uses - 1 })
        .where('id', '=', trustId)
        .where('deleted_at', 'is', null)
        .where('remaining_uses', '=', uses)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) {
        // A used-up trust stops validating its tokens (Keystone's get_trust), cached ones included.
        if (uses === 1) this.core.onRevocation();
        return;
      }
    }
    throw conflict(`Unable to consume trust ${trustId}: too many concurrent uses.`);
  }

  /** For token validation: the trust's facts and delegated role ids, or null when gone, expired or used up. */
  async forToken(trustId: string, now: Date): Promise<{ info: TrustInfo; projectId: string | null; roleIds: string[]; rolesUserId: string } | null> {
    let chain: Trust[];
    try {
      chain = await this.chain(trustId, now);
    } catch (err) {
      if (err instanceof CloudError) return null;
      throw err;
    }
    const trust = chain[0];
    for (const userId of [trust.trustorUserId, trust.trusteeUserId]) {
      if (!(await this.activeUser(userId))) return null;
    }
    const info: TrustInfo = { id: trust.id, impersonation: trust.impersonation, trustorUserId: trust.trustorUserId, trusteeUserId: trust.trusteeUserId };
    const rolesUserId = chain[chain.length - 1].trustorUserId;
    if (!trust.projectId) return { info, projectId: null, roleIds: [], rolesUserId };
    const roleIds = await this.delegatedRoleIds(chain);
    if (!roleIds) return null;
    return { info, projectId: trust.projectId, roleIds, rolesUserId };
  }

  // ---- internals ------------------------------------------------------------------------

  /**
   * The trust's roles with their implied roles, when the original trustor still holds all
   * of them on the project; null otherwise (Keystone: "Trustee has no delegated roles").
   */
  private async delegatedRoleIds(chain: Trust[]): Promise<string[] | null> {
    const trust = chain[0];
    if (!trust.projectId) return [];
    const expanded = await this.svc.roles.expandImplied(trust.roleIds);
    const held = await heldRoleIds(this.svc, chain[chain.length - 1].trustorUserId, trust.projectId);
    for (const id of expanded) if (!held.has(id)) return null;
    return [...expanded];
  }

  private async activeUser(userId: string): Promise<boolean> {
    const row = await this.svc.users.findRow(userId);
    if (!row || row.enabled !== 1) return false;
    const domain = await this.svc.resource.findProjectRow(row.domain_id);
    return Boolean(domain && domain.enabled === 1);
  }

  /** Keystone's driver get_trust: not deleted, not expired, uses left. */
  private async liveRow(id: string, now: Date): Promise<Trust> {
    const row = await this.core.db.selectFrom('identity_trusts').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (!row || isExpired(row.expires_at, now) || (row.remaining_uses !== null && row.remaining_uses <= 0)) throw notFoundTrust(id);
    const roles = await this.core.db.selectFrom('identity_trust_roles').select('role_id').where('trust_id', '=', id).execute();
    return trustFromRow(row, roles.map((r) => r.role_id).sort());
  }

  /** The trust followed by the trusts it was redelegated from, each link checked as Keystone's get_trust does. */
  private async chain(id: string, now: Date): Promise<Trust[]> {
    const chain = [await this.liveRow(id, now)];
    const max = this.core.config.identity.max_redelegation_count;
    while (chain[chain.length - 1].redelegatedTrustId) {
      const child = chain[chain.length - 1];
      if (chain.length > max + 1) throw forbidden('Trust redelegation chain is too long.');
      const parent = await this.liveRow(child.redelegatedTrustId as string, now);
      this.checkRedelegation(parent, child);
      if (!(await this.activeUser(parent.trusteeUserId))) throw forbidden('One of the trust agents is disabled or deleted');
      chain.push(parent);
    }
    return chain;
  }

  /** Keystone's _validate_redelegation; returns the child's expiry (inherited from the parent when unset). */
  private checkRedelegation(parent: Trust, child: Redelegation): string | null {
    const max = this.core.config.identity.max_redelegation_count;
    const depth = parent.redelegationCount ?? 0;
    if (!(depth > 0 && depth <= max)) throw forbidden(`Remaining redelegation depth of ${depth} out of allowed range of [0..${max}]`);
    if (child.remainingUses !== null) {
      throw forbidden(`Field "remaining_uses" is set to ${child.remainingUses} while it must not be set in order to redelegate a trust`);
    }
    let expiresAt = child.expiresAt;
    if (expiresAt) {
      if (parent.expiresAt && expiryTime(parent.expiresAt) < expiryTime(expiresAt)) throw forbidden('Requested expiration time is more than redelegated trust can provide');
    } else {
      expiresAt = parent.expiresAt;
    }
    const parentRoles = new Set(parent.roleIds);
    if (!child.roleIds.every((r) => parentRoles.has(r))) throw forbidden('Some of requested roles are not in redelegated trust');
    if (!parent.impersonation && child.impersonation) {
      throw forbidden(`Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: ${parent.id}`);
    }
    return expiresAt;
  }
}
