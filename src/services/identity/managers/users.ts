import { conflict, notFound, unauthorized } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro, parseIso } from '../../../common/db/time.js';
import { parseJson, type UserRow } from '../store/tables.js';
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

/** Local users and their password history. */
export class UserManager {
  constructor(private readonly core: IdentityCore) {}

  async findRow(id: string): Promise<UserRow | undefined> {
    return this.core.db.selectFrom('identity_users').selectAll().where('id', '=', id).executeTakeFirst();
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
    return userFromRow(row, password?.expires_at ?? null);
  }

  async createUser(input: NewUser): Promise<User> {
    const dup = await this.core.db
      .selectFrom('identity_users')
      .select('id')
      .where('domain_id', '=', input.domainId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (dup) throw conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID ${input.domainId}.`);
    const now = this.core.clock.now();
    const row: UserRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: input.domainId,
      enabled: input.enabled === false ? 0 : 1,
      default_project_id: input.defaultProjectId ?? null,
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(input.options ?? {}),
      failed_auth_count: 0,
      failed_auth_at: null,
      last_active_at: null,
      created_at: isoMicro(now),
    };
    const passwordHash = input.password != null ? await this.core.hasher.hash(input.password) : null;
    await this.core.db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_users').values(row).execute();
      if (passwordHash) {
        await trx.insertInto('identity_passwords').values({ id: hexId(), user_id: row.id, password_hash: passwordHash, created_at: isoMicro(now), expires_at: null, self_service: 0 }).execute();
      }
    });
    notify(this.core, 'user', 'created', row.id);
    return userFromRow(row);
  }

  /** Checks a password; true when it matches the current one. Lockout/expiry rules live in the auth flow. */
  async verifyPassword(userId: string, password: string): Promise<boolean> {
    const current = await this.currentPassword(userId);
    if (!current) return false;
    return this.core.hasher.verify(password, current.password_hash);
  }

  /** Replaces the password without history or policy checks (bootstrap and admin resets use this). */
  async setPasswordForBootstrap(userId: string, password: string): Promise<void> {
    const now = this.core.clock.now();
    const hash = await this.core.hasher.hash(password);
    await this.core.db.insertInto('identity_passwords').values({ id: hexId(), user_id: userId, password_hash: hash, created_at: isoMicro(now), expires_at: null, self_service: 0 }).execute();
  }

  async groupIdsOf(userId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom('identity_group_members').select('group_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.group_id);
  }
}

/** Password checks made at authentication time (lockout and expiry rules are applied here). */
export async function authenticatePassword(core: IdentityCore, users: UserManager, user: User, password: string): Promise<void> {
  const ok = await users.verifyPassword(user.id, password);
  if (!ok) throw unauthorized();
}
