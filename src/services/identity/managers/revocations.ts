import { hexId } from '../../../common/ids.js';
import { isoMicro, parseIso } from '../../../common/db/time.js';
import type { RevocationRow } from '../store/tables.js';
import type { IdentityCore } from './core.js';

/** The facts of a token that revocation events are matched against. */
export interface RevocableToken {
  userId: string;
  projectId?: string;
  /** The scope's domain, the user's domain and the project's domain: disabling any of them revokes. */
  domainIds: string[];
  trustId?: string;
  appCredId?: string;
  trustorId?: string;
  /** An impersonating trust token names the trustor as its user; the trustee's revocations must reach it too. */
  trusteeId?: string;
  auditIds: string[];
  issuedAt: Date;
}

export type RevocationEvent = Partial<Pick<RevocationRow, 'domain_id' | 'project_id' | 'user_id' | 'role_id' | 'trust_id' | 'app_cred_id' | 'audit_id' | 'audit_chain_id'>>;

/**
 * Keystone's revocation model: an event names some token facts and a time; a token
 * issued before that time whose facts all match is revoked. Events are few and
 * are kept in memory; other API processes (PostgreSQL deployments) reload them
 * every `refreshMs`.
 */
export class RevocationManager {
  private events: RevocationRow[] = [];
  private loadedAt = 0;

  constructor(
    private readonly core: IdentityCore,
    private readonly refreshMs = 1000,
  ) {}

  async load(): Promise<void> {
    const cutoff = isoMicro(new Date(this.core.clock.now().getTime() - (this.core.config.identity.token_expiration + this.core.config.identity.allow_expired_window) * 1000));
    this.events = await this.core.db.selectFrom('identity_revocations').selectAll().where('revoked_at', '>=', cutoff).execute();
    this.loadedAt = Date.now();
  }

  async revoke(event: RevocationEvent): Promise<void> {
    const now = isoMicro(this.core.clock.now());
    const row: RevocationRow = {
      id: hexId(),
      domain_id: event.domain_id ?? null,
      project_id: event.project_id ?? null,
      user_id: event.user_id ?? null,
      role_id: event.role_id ?? null,
      trust_id: event.trust_id ?? null,
      app_cred_id: event.app_cred_id ?? null,
      audit_id: event.audit_id ?? null,
      audit_chain_id: event.audit_chain_id ?? null,
      issued_before: now,
      revoked_at: now,
    };
    await this.core.db.insertInto('identity_revocations').values(row).execute();
    this.events.push(row);
    this.core.onRevocation();
  }

  async isRevoked(token: RevocableToken): Promise<boolean> {
    if (Date.now() - this.loadedAt > this.refreshMs) await this.load();
    return this.events.some((event) => matches(event, token));
  }
}

function matches(event: RevocationRow, token: RevocableToken): boolean {
  // Fernet tokens carry whole seconds: a token issued in the same second as the event counts as before it (Keystone does the same).
  if (Math.floor(token.issuedAt.getTime() / 1000) * 1000 > parseIso(event.issued_before).getTime()) return false;
  if (event.user_id && event.user_id !== token.userId && event.user_id !== token.trustorId && event.user_id !== token.trusteeId) return false;
  if (event.project_id && event.project_id !== token.projectId) return false;
  if (event.domain_id && !token.domainIds.includes(event.domain_id)) return false;
  if (event.trust_id && event.trust_id !== token.trustId) return false;
  if (event.app_cred_id && event.app_cred_id !== token.appCredId) return false;
  if (event.audit_id && event.audit_id !== token.auditIds[0]) return false;
  if (event.audit_chain_id && event.audit_chain_id !== token.auditIds[token.auditIds.length - 1]) return false;
  return Boolean(event.user_id || event.project_id || event.domain_id || event.trust_id || event.app_cred_id || event.audit_id || event.audit_chain_id);
}
