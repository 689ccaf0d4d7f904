import type { Kysely } from 'kysely';
import { badRequest, CloudError, conflict, notFound, unauthorized } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro, parseIso } from '../../../common/db/time.js';
import { DOMAIN_ROOT, parseJson, type IdentityTables, type UserRow } from '../store/tables.js';
import type { User } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';

export function userFromRow(row: UserRow, passwordExpiresAt: string | null = null): User {
  return {
    id: row.id,
    name: row.name,
    domainId: row.domain_id,
    enabled: row.enabled === 1,
    defaultProjectId: row.default_project_id,
    passwordExpiresAt: passwordExpiresAt ? parseIso(passwordExpiresAt) : null,
    options: parseJson(row.options),
    extra: parseJson(row.extra),
  };
}

export interface NewUser {
  id?: string;
  name: string;
  domainId: string;
  enabled?: boolean;
  password?: string | null;
  defaultProjectId?: string | null;
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** PATCH /v3/users/{id}: only the keys present change; `undefined` means "not sent". */
export interface UserPatch {
  name?: string;
  domainId?: string;
  enabled?: boolean;
  password?: string | null;
  defaultProjectId?: string | null;
  /** null values remove the option, as Keystone's resource options do. */
  options?: Record<string, unknown>;
  /** Merged into the stored extra attributes. */
  extra?: Record<string, unknown>;
}

export type ExpiryOperator = 'lt' | 'lte' | 'gt' | 'gte' | 'eq' | 'neq';

export interface UserFilters {
  domainId?: string;
  name?: string;
  enabled?: boolean;
  /** password_expires_at=<op>:<timestamp> filters; only users whose current password has an expiry match. */
  passwordExpires?: { op: ExpiryOperator; at: Date }[];
  /** Members of this group only. */
  groupId?: string;
}

interface PasswordMode {
  /** Set by the user themselves (POST /v3/users/{id}/password): minimum age applies to the next change. */
  selfService: boolean;
  /** Set by an admin: expires at once when change_password_upon_first_use is on. */
  adminSet: boolean;
}

type Db = Kysely<IdentityTables>;

const DAY_MS = 86_400_000;
const utcDay = (date: Date): number => Math.floor(date.getTime() / DAY_MS);

/** Local users, their password history and Keystone's [security_compliance] rules. */
export class UserManager {
  constructor(private readonly core: IdentityCore) {}

  private get rules() {
    return this.core.config.identity;
  }

  /** The stored row with `enabled` as Keystone computes it (inactive users read as disabled). */
  async findRow(id: string): Promise<UserRow | undefined> {
    const row = await this.core.db.selectFrom('identity_users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.effective(row) : undefined;
  }

  private effective(row: UserRow): UserRow {
    return row.enabled === 1 && this.inactive(row) ? { ...row, enabled: 0 } : row;
  }

  /** disable_user_account_days_inactive: days since the last authentication (or creation) in UTC dates. */
  private inactive(row: UserRow): boolean {
    const maxDays = this.rules.disable_user_account_days_inactive;
    if (!maxDays) return false;
    if (parseJson(row.options).ignore_user_inactivity === true) return false;
    const last = parseIso(row.last_active_at ?? row.created_at);
    return utcDay(this.core.clock.now()) - utcDay(last) >= maxDays;
  }

  async currentPassword(userId: string): Promise<{ id: string; password_hash: string; created_at: string; expires_at: string | null; self_service: number } | undefined> {
    return this.core.db
      .selectFrom('identity_passwords')
      .select(['id', 'password_hash', 'created_at', 'expires_at', 'self_service'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async getUser(id: string): Promise<User> {
    const row = await this.findRow(id);
    if (!row) throw notFound(`Could not find user: ${id}.`);
    const password = await this.currentPassword(id);
    return userFromRow(row, password?.expires_at ?? null);
  }

  async findByName(name: string, domainId: string): Promise<User | undefined> {
    const row = await this.core.db
      .selectFrom('identity_users')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    const password = await this.currentPassword(row.id);
    return userFromRow(this.effective(row), password?.expires_at ?? null);
  }

  private async assertNameFree(name: string, domainId: string, exceptId?: string): Promise<void> {
    let query = this.core.db.selectFrom('identity_users').select('id').where('domain_id', '=', domainId).where('name', '=', name);
    if (exceptId) query = query.where('id', '!=', exceptId);
    if (await query.executeTakeFirst()) {
      throw conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID ${domainId}.`);
    }
  }

  /**
   * Inserts a user without API-level checks (bootstrap uses it directly). `adminSet`
   * applies change_password_upon_first_use to the initial password.
   */
  async createUser(input: NewUser, mode: { adminSet?: boolean } = {}): Promise<User> {
    await this.assertNameFree(input.name, input.domainId);
    const now = this.core.clock.now();
    const options = dropNulls(input.options ?? {});
    const row: UserRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: input.domainId,
      enabled: input.enabled === false ? 0 : 1,
      default_project_id: input.defaultProjectId ?? null,
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(options),
      failed_auth_count: 0,
      failed_auth_at: null,
      last_active_at: input.enabled !== false && this.rules.disable_user_account_days_inactive ? isoMicro(now) : null,
      created_at: isoMicro(now),
    };
    const hash = input.password !== undefined ? await this.hashOrEmpty(input.password) : null;
    await this.core.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('identity_users').values(row).execute();
        if (hash !== null) await this.storePassword(trx, row.id, options, hash, { selfService: false, adminSet: mode.adminSet === true });
      })
      .catch((err: unknown) => rethrowDuplicate(err, input.name, input.domainId));
    notify(this.core, 'user', 'created', row.id);
    return this.getUser(row.id);
  }

  /** POST /v3/users: Keystone's create_user checks on top of createUser. */
  async create(input: NewUser): Promise<User> {
    const name = input.name.trim();
    if (input.password !== undefined) this.validateNewPassword(input.password);
    await this.assertDomain(input.domainId);
    await this.assertDefaultProjectNotDomain(input.defaultProjectId);
    return this.createUser({ ...input, name }, { adminSet: true });
  }

  async update(id: string, patch: UserPatch): Promise<User> {
    const stored = await this.core.db.selectFrom('identity_users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!stored) throw notFound(`Could not find user: ${id}.`);
    if (patch.domainId !== undefined && patch.domainId !== stored.domain_id) throw badRequest('Cannot change Domain ID');
    if (patch.password !== undefined) this.validateNewPassword(patch.password);
    const name = patch.name !== undefined ? patch.name.trim() : stored.name;
    if (name !== stored.name) await this.assertNameFree(name, stored.domain_id, id);
    if (patch.defaultProjectId !== undefined) await this.assertDefaultProjectNotDomain(patch.defaultProjectId);

    const options = parseJson(stored.options);
    for (const [key, value] of Object.entries(patch.options ?? {})) {
      if (value === null) delete options[key];
      else options[key] = value;
    }
    const wasEnabled = this.effective(stored).enabled === 1;
    // Keystone re-applies `enabled` on every update: an enabled user gets a clean failure counter
    // and a fresh activity date, and an inactivity-disabled one stays disabled.
    const enabled = patch.enabled ?? wasEnabled;
    const now = this.core.clock.now();
    const changes: Partial<UserRow> = {
      name,
      enabled: enabled ? 1 : 0,
      default_project_id: patch.defaultProjectId !== undefined ? patch.defaultProjectId : stored.default_project_id,
      options: JSON.stringify(options),
      extra: JSON.stringify({ ...parseJson(stored.extra), ...(patch.extra ?? {}) }),
    };
    if (enabled) {
      changes.failed_auth_count = 0;
      changes.failed_auth_at = null;
      if (this.rules.disable_user_account_days_inactive) changes.last_active_at = isoMicro(now);
    }
    const hash = patch.password !== undefined ? await this.hashOrEmpty(patch.password) : null;
    await this.core.db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('identity_users').set(changes).where('id', '=', id).execute();
        // Admin resets skip history and minimum age (Tempest test_password_history_not_enforced_in_admin_reset).
        if (hash !== null) await this.storePassword(trx, id, options, hash, { selfService: false, adminSet: true });
      })
      .catch((err: unknown) => rethrowDuplicate(err, name, stored.domain_id));
    notify(this.core, 'user', 'updated', id);
    if ((patch.enabled === false && wasEnabled) || (patch.password !== undefined && patch.password !== null)) {
      await this.revokeUser(id);
    }
    return this.getUser(id);
  }

  /** Deletes the user with everything that hangs off it (memberships, grants, credentials, app creds, trusts). */
  async delete(id: string): Promise<void> {
    const row = await this.core.db.selectFrom('identity_users').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find user: ${id}.`);
    const now = isoMicro(this.core.clock.now());
    await this.core.db.transaction().execute(async (trx) => {
      const appCreds = trx.selectFrom('identity_app_creds').select('id').where('user_id', '=', id);
      await trx.deleteFrom('identity_app_cred_roles').where('app_cred_id', 'in', appCreds).execute();
      await trx.deleteFrom('identity_app_cred_access_rules').where('app_cred_id', 'in', appCreds).execute();
      await trx.deleteFrom('identity_app_creds').where('user_id', '=', id).execute();
      await trx.deleteFrom('identity_access_rules').where('user_id', '=', id).execute();
      await trx.updateTable('identity_trusts').set({ deleted_at: now }).where('deleted_at', 'is', null).where((eb) => eb.or([eb('trustor_user_id', '=', id), eb('trustee_user_id', '=', id)])).execute();
      await trx.deleteFrom('identity_credentials').where('user_id', '=', id).execute();
      await trx.deleteFrom('identity_assignments').where('actor_id', '=', id).where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem']).execute();
      await trx.deleteFrom('identity_group_members').where('user_id', '=', id).execute();
      await trx.deleteFrom('identity_passwords').where('user_id', '=', id).execute();
      await trx.deleteFrom('identity_users').where('id', '=', id).execute();
    });
    await this.revokeUser(id);
    notify(this.core, 'user', 'deleted', id);
  }

  async list(filters: UserFilters = {}): Promise<User[]> {
    let query = this.core.db.selectFrom('identity_users').selectAll();
    if (filters.domainId !== undefined) query = query.where('domain_id', '=', filters.domainId);
    if (filters.name !== undefined) query = query.where('name', '=', filters.name);
    if (filters.groupId !== undefined) {
      const members = this.core.db.selectFrom('identity_group_members').select('user_id').where('group_id', '=', filters.groupId);
      query = query.where('id', 'in', members);
    }
    const rows = (await query.orderBy('name').orderBy('id').execute()).map((r) => this.effective(r));
    const expiries = await this.currentExpiries(rows.map((r) => r.id));
    const users = rows.map((r) => userFromRow(r, expiries.get(r.id) ?? null));
    return users.filter((u) => {
      if (filters.enabled !== undefined && u.enabled !== filters.enabled) return false;
      for (const f of filters.passwordExpires ?? []) {
        if (!u.passwordExpiresAt || !compare(f.op, u.passwordExpiresAt.getTime(), f.at.getTime())) return false;
      }
      return true;
    });
  }

  private async currentExpiries(userIds: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (userIds.length === 0) return out;
    const newest = new Map<string, { created_at: string; id: string; expires_at: string | null }>();
    // Chunked so huge user lists stay under SQL parameter limits.
    for (let i = 0; i < userIds.length; i += 500) {
      const rows = await this.core.db
        .selectFrom('identity_passwords')
        .select(['user_id', 'id', 'created_at', 'expires_at'])
        .where('user_id', 'in', userIds.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        const seen = newest.get(r.user_id);
        if (!seen || r.created_at > seen.created_at || (r.created_at === seen.created_at && r.id > seen.id)) newest.set(r.user_id, r);
      }
    }
    for (const [userId, r] of newest) out.set(userId, r.expires_at);
    return out;
  }

  /** Checks a password; true when it matches the current one. Lockout/expiry rules live in `authenticate`. */
  async verifyPassword(userId: string, password: string): Promise<boolean> {
    const current = await this.currentPassword(userId);
    if (!current || !current.password_hash) return false;
    return this.core.hasher.verify(password, current.password_hash);
  }

  /**
   * Keystone's password authentication: locked → wrong password (counted) → disabled →
   * expired; success clears the failure counter and records activity.
   */
  async authenticate(userId: string, password: string, opts: { allowExpired?: boolean } = {}): Promise<void> {
    const raw = await this.core.db.selectFrom('identity_users').selectAll().where('id', '=', userId).executeTakeFirst();
    if (!raw) throw unauthorized();
    const options = parseJson(raw.options);
    if (await this.isLocked(raw, options)) throw unauthorized(`The account is locked for user: ${userId}.`);
    if (password.length > this.rules.max_password_length || !(await this.verifyPassword(userId, password))) {
      await this.recordFailure(userId);
      throw unauthorized();
    }
    if (this.effective(raw).enabled !== 1) throw unauthorized(`The account is disabled for user: ${userId}.`);
    const current = await this.currentPassword(userId);
    if (current?.expires_at && options.ignore_password_expiry !== true && this.core.clock.now() >= parseIso(current.expires_at)) {
      if (opts.allowExpired) return;
      throw unauthorized(`The password is expired and needs to be changed for user: ${userId}.`);
    }
    const changes: Partial<UserRow> = {};
    if (raw.failed_auth_count) Object.assign(changes, { failed_auth_count: 0, failed_auth_at: null });
    if (this.rules.disable_user_account_days_inactive) changes.last_active_at = isoMicro(this.core.clock.now());
    if (Object.keys(changes).length) await this.core.db.updateTable('identity_users').set(changes).where('id', '=', userId).execute();
  }

  private async isLocked(row: UserRow, options: Record<string, unknown>): Promise<boolean> {
    const max = this.rules.lockout_failure_attempts;
    if (!max || options.ignore_lockout_failure_attempts === true || row.failed_auth_count < max) return false;
    const last = row.failed_auth_at ? parseIso(row.failed_auth_at).getTime() : 0;
    if (last + this.rules.lockout_duration * 1000 > this.core.clock.now().getTime()) return true;
    await this.core.db.updateTable('identity_users').set({ failed_auth_count: 0, failed_auth_at: null }).where('id', '=', row.id).execute();
    return false;
  }

  private async recordFailure(userId: string): Promise<void> {
    await this.core.db
      .updateTable('identity_users')
      .set((eb) => ({ failed_auth_count: eb('failed_auth_count', '+', 1), failed_auth_at: isoMicro(this.core.clock.now()) }))
      .where('id', '=', userId)
      .execute();
  }

  /** POST /v3/users/{id}/password: the self-service change, with every [security_compliance] rule. */
  async changePassword(userId: string, originalPassword: string, newPassword: string): Promise<void> {
    await this.authenticate(userId, originalPassword, { allowExpired: true });
    this.validateNewPassword(newPassword);
    const row = await this.core.db.selectFrom('identity_users').select(['options']).where('id', '=', userId).executeTakeFirstOrThrow();
    const options = parseJson(row.options);
    if (options.lock_password === true) {
      throw passwordError('You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.');
    }
    const current = await this.currentPassword(userId);
    const minAgeDays = this.rules.minimum_password_age;
    if (current && current.self_service === 1 && minAgeDays > 0) {
      const allowedAt = parseIso(current.created_at).getTime() + minAgeDays * DAY_MS;
      const now = this.core.clock.now().getTime();
      if (now < allowedAt) {
        const daysLeft = Math.floor((allowedAt - now) / DAY_MS);
        throw passwordError(
          `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${minAgeDays} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`,
        );
      }
    }
    const unique = this.rules.unique_last_password_count;
    if (unique > 0) {
      const recent = await this.recentPasswords(this.core.db, userId, unique);
      for (const p of recent) {
        if (p.password_hash && (await this.core.hasher.verify(newPassword, p.password_hash))) {
          throw passwordError(`The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${unique}.`);
        }
      }
    }
    const hash = await this.core.hasher.hash(newPassword);
    await this.core.db.transaction().execute(async (trx) => {
      await this.storePassword(trx, userId, options, hash, { selfService: true, adminSet: false });
    });
    notify(this.core, 'user', 'updated', userId);
    await this.revokeUser(userId);
  }

  /** Replaces the password without history or policy checks (bootstrap uses this). */
  async setPasswordForBootstrap(userId: string, password: string): Promise<void> {
    const row = await this.core.db.selectFrom('identity_users').select('options').where('id', '=', userId).executeTakeFirst();
    const hash = await this.core.hasher.hash(password);
    await this.core.db.transaction().execute(async (trx) => {
      await this.storePassword(trx, userId, parseJson(row?.options), hash, { selfService: false, adminSet: false });
    });
  }

  async groupIdsOf(userId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom('identity_group_members').select('group_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.group_id);
  }

  /** Revokes every token of the user (password change, disabling, group removal, deletion). */
  async revokeUser(userId: string): Promise<void> {
    await this.revoker?.(userId);
    this.core.onRevocation();
  }

  /** Wired by the service to RevocationManager.revoke({user_id}) (the managers are built in order). */
  revoker: ((userId: string) => Promise<void>) | null = null;

  /** Length and password_regex rules for any new password (create, admin reset, self-service). */
  validateNewPassword(password: string | null): void {
    if (password !== null && password.length > this.rules.max_password_length) {
      throw badRequest(`Invalid input for field 'password': The password length must be less than or equal to ${this.rules.max_password_length}.`);
    }
    const pattern = this.rules.password_regex;
    if (!pattern) return;
    if (typeof password !== 'string') throw passwordError('Password validation error: Password must be a string type.');
    let regex: RegExp;
    try {
      regex = compilePythonMatch(pattern);
    } catch {
      this.core.log.error({ password_regex: pattern }, 'Unable to validate password due to invalid regular expression');
      throw passwordError('Password validation error: Unable to validate password due to invalid configuration.');
    }
    if (!regex.test(password)) {
      throw passwordError(`The password does not match the requirements: ${this.rules.password_regex_description ?? ''}.`);
    }
  }

  private async assertDomain(domainId: string): Promise<void> {
    const row = await this.core.db.selectFrom('identity_projects').select('id').where('id', '=', domainId).where('is_domain', '=', 1).executeTakeFirst();
    if (!row) throw notFound(`Could not find domain: ${domainId}.`);
  }

  private async assertDefaultProjectNotDomain(projectId: string | null | undefined): Promise<void> {
    if (!projectId) return;
    const row = await this.core.db.selectFrom('identity_projects').select(['is_domain', 'domain_id']).where('id', '=', projectId).executeTakeFirst();
    // A default project that doesn't exist (yet) is accepted, as Keystone does.
    if (row && (row.is_domain === 1 || row.domain_id === DOMAIN_ROOT)) throw badRequest(`User's default project ID cannot be a domain ID: ${projectId}`);
  }

  private async hashOrEmpty(password: string | null): Promise<string> {
    // A null password is stored as an empty hash: the history stays intact and nothing ever verifies against it.
    return password === null ? '' : this.core.hasher.hash(password);
  }

  private async recentPasswords(db: Db, userId: string, count: number) {
    return db
      .selectFrom('identity_passwords')
      .select(['id', 'password_hash', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(count)
      .execute();
  }

  /**
   * Appends a password to the history. created_at is kept strictly increasing so the newest
   * row is unambiguous even when the clock stands still; older rows beyond what the history
   * rule needs are dropped (Keystone keeps max(unique_last_password_count, 1) + 1).
   */
  private async storePassword(db: Db, userId: string, options: Record<string, unknown>, hash: string, mode: PasswordMode): Promise<void> {
    const now = this.core.clock.now();
    const latest = await this.recentPasswords(db, userId, 1);
    let createdAt = now;
    if (latest[0] && parseIso(latest[0].created_at).getTime() >= now.getTime()) createdAt = new Date(parseIso(latest[0].created_at).getTime() + 1);
    let expiresAt: string | null = null;
    if (mode.adminSet && this.rules.change_password_upon_first_use && options.ignore_change_password_upon_first_use !== true) {
      expiresAt = isoMicro(now);
    } else if (this.rules.password_expires_days && options.ignore_password_expiry !== true) {
      const expiry = new Date(createdAt.getTime() + this.rules.password_expires_days * DAY_MS);
      expiry.setUTCMilliseconds(0);
      expiresAt = isoMicro(expiry);
    }
    await db
      .insertInto('identity_passwords')
      .values({ id: hexId(), user_id: userId, password_hash: hash, created_at: isoMicro(createdAt), expires_at: expiresAt, self_service: mode.selfService ? 1 : 0 })
      .execute();
    const keep = Math.max(this.rules.unique_last_password_count, 1) + 1;
    const stale = (await this.recentPasswords(db, userId, 1000)).slice(keep).map((p) => p.id);
    if (stale.length) await db.deleteFrom('identity_passwords').where('id', 'in', stale).execute();
  }
}

/** Password checks made at authentication time (managers/auth.ts calls this for the password method). */
export async function authenticatePassword(core: IdentityCore, users: UserManager, user: User, password: string): Promise<void> {
  void core;
  await users.authenticate(user.id, password);
}

/** A concurrent insert can still hit the (domain_id, name) unique key after our check: answer 409, not 500. */
export function rethrowDuplicate(err: unknown, name: string, domainId: string, kind = 'user'): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw conflict(`Conflict occurred attempting to store ${kind} - Duplicate entry found with name ${name} at domain ID ${domainId}.`);
  }
  throw err;
}

function passwordError(message: string): CloudError {
  return badRequest(message);
}

function dropNulls(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== null && v !== undefined));
}

function compare(op: ExpiryOperator, a: number, b: number): boolean {
  switch (op) {
    case 'lt': return a < b;
    case 'lte': return a <= b;
    case 'gt': return a > b;
    case 'gte': return a >= b;
    case 'eq': return a === b;
    case 'neq': return a !== b;
  }
}

/** Python's re.match: anchored at the start only. Unicode mode first, legacy mode for patterns it rejects. */
function compilePythonMatch(pattern: string): RegExp {
  const source = `^(?:${pattern})`;
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
}
