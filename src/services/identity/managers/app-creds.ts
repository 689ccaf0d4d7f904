import { badRequest, CloudError, conflict, forbidden, notFound, unauthorized } from '../../../common/errors.js';
import { hexId, randomSecret } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import type { AccessRuleRow, AppCredRow } from '../store/tables.js';
import { notify, type IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';
import type { AppCredAuthenticator, AuthRequest, UserRef } from './auth.js';
import type { AppCredInfo } from './tokens.js';
import { expiryTime, heldRoleIds, isExpired, isUniqueViolation, parseExpiry, resolveRoleRefs, type RoleRef } from './delegation.js';

export interface AccessRule {
  id: string;
  service: string;
  path: string;
  method: string;
}

export interface AppCred {
  id: string;
  name: string;
  description: string | null;
  userId: string;
  projectId: string | null;
  system: string | null;
  /** Stored as 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; null never expires. */
  expiresAt: string | null;
  unrestricted: boolean;
  roleIds: string[];
  /** null when the credential has no access rules (Keystone then omits the attribute). */
  accessRules: AccessRule[] | null;
}

/** An access rule in a create request: an existing rule by id, or a new (or identical existing) one. */
export interface AccessRuleRef {
  id?: string;
  service?: string;
  path?: string;
  method?: string;
}

/** POST /v3/users/{user_id}/application_credentials after schema validation. */
export interface NewAppCred {
  name: string;
  description?: string | null;
  secret?: string | null;
  expiresAt?: string | null;
  roles?: RoleRef[];
  unrestricted?: boolean;
  accessRules?: AccessRuleRef[];
}

/** The project-scoped token the credential is created from: it fixes the project and bounds the roles. */
export interface AppCredOrigin {
  projectId: string;
  tokenRoleIds: string[];
}

type AppCredAuthRef = NonNullable<AuthRequest['identity']['application_credential']>;

const notFoundAppCred = (id: string) => notFound(`Could not find Application Credential: ${id}.`);
const notFoundRule = (id: string) => notFound(`Could not find Access Rule: ${id}.`);
const invalid = (detail: string) => badRequest(`Invalid application credential: ${detail}`);

function ruleOf(row: AccessRuleRow): AccessRule {
  return { id: row.id, service: row.service, path: row.path, method: row.method };
}

/** Application credentials and access rules; authenticates the application_credential method. */
export class AppCredManager implements AppCredAuthenticator {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    // Keystone drops a user's credentials when the user is disabled, and those on a
    // project when one of the user's roles there is removed.
    core.events.subscribe('identity.user.updated', async (n) => {
      const userId = n.payload.resource_info;
      if (typeof userId !== 'string') return;
      const row = await this.svc.users.findRow(userId);
      if (row && row.enabled !== 1) await this.deleteWhere(userId, null, true);
    });
    core.events.subscribe('identity.role_assignment.deleted', async (n) => {
      const { user, project } = n.payload;
      if (typeof user === 'string' && typeof project === 'string') await this.deleteWhere(user, project, false);
    });
  }

  // ---- application credentials ---------------------------------------------------------

  async create(userId: string, origin: AppCredOrigin, input: NewAppCred): Promise<{ appCred: AppCred; secret: string }> {
    const now = this.core.clock.now();
    const limit = this.core.config.identity.application_credential_user_limit;
    if (limit >= 0) {
      const count = await this.core.db.selectFrom('identity_app_creds').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirst();
      if (Number(count?.n ?? 0) >= limit) throw forbidden(`Unable to create additional application credentials, maximum of ${limit} already exceeded for user.`);
    }
    let roleIds: string[];
    if (input.roles && input.roles.length > 0) {
      roleIds = await resolveRoleRefs(this.svc, input.roles);
      // Only roles of the creating token: a credential never carries more than its creator had.
      if (roleIds.some((id) => !origin.tokenRoleIds.includes(id))) throw invalid('Cannot create an application credential with unassigned role');
    } else {
      roleIds = [...new Set(origin.tokenRoleIds)];
    }
    const held = await heldRoleIds(this.svc, userId, origin.projectId);
    const unheld = roleIds.find((id) => !held.has(id));
    if (unheld) {
      throw invalid(`Could not find role assignment with role: ${unheld}, user or group: ${userId}, project, domain, or system: ${origin.projectId}.`);
    }
    const expiresAt = input.expiresAt ? parseExpiry(input.expiresAt, now) : null;
    const duplicate = () => conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${input.name}.`);
    const dup = await this.core.db.selectFrom('identity_app_creds').select('id').where('user_id', '=', userId).where('name', '=', input.name).executeTakeFirst();
    if (dup) throw duplicate();

    const secret = input.secret || randomSecret(64);
    const row: AppCredRow = {
      id: hexId(),
      name: input.name,
      secret_hash: await this.core.hasher.hash(secret),
      description: input.description ?? null,
      user_id: userId,
      project_id: origin.projectId,
      system: null,
      expires_at: expiresAt,
      unrestricted: input.unrestricted ? 1 : 0,
      created_at: isoMicro(now),
    };
    try {
      await this.core.db.transaction().execute(async (trx) => {
        await trx.insertInto('identity_app_creds').values(row).execute();
        if (roleIds.length) await trx.insertInto('identity_app_cred_roles').values(roleIds.map((roleId) => ({ app_cred_id: row.id, role_id: roleId }))).execute();
        const ruleIds: string[] = [];
        for (const ref of input.accessRules ?? []) {
          const id = await this.resolveRule(trx, userId, ref);
          if (!ruleIds.includes(id)) ruleIds.push(id);
        }
        if (ruleIds.length) await trx.insertInto('identity_app_cred_access_rules').values(ruleIds.map((id) => ({ app_cred_id: row.id, access_rule_id: id }))).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err) && !(err instanceof CloudError)) {
        const again = await this.core.db.selectFrom('identity_app_creds').select('id').where('user_id', '=', userId).where('name', '=', input.name).executeTakeFirst();
        if (again) throw duplicate();
        throw conflict('Conflict occurred attempting to store access_rule - Duplicate entry.');
      }
      throw err;
    }
    notify(this.core, 'application_credential', 'created', row.id);
    return { appCred: await this.get(row.id), secret };
  }

  async get(id: string): Promise<AppCred> {
    const row = await this.core.db.selectFrom('identity_app_creds').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFoundAppCred(id);
    return (await this.hydrate([row]))[0];
  }

  /** The owner of a credential, or undefined: routes authorize against it before anything else. */
  async ownerOf(id: string): Promise<string | undefined> {
    const row = await this.core.db.selectFrom('identity_app_creds').select('user_id').where('id', '=', id).executeTakeFirst();
    return row?.user_id;
  }

  async list(userId: string, filter: { name?: string } = {}): Promise<AppCred[]> {
    let query = this.core.db.selectFrom('identity_app_creds').selectAll().where('user_id', '=', userId);
    if (filter.name !== undefined) query = query.where('name', '=', filter.name);
    return this.hydrate(await query.orderBy('created_at').orderBy('id').execute());
  }

  /** Deletes a credential; tokens issued with it stop validating at once. */
  async delete(id: string): Promise<void> {
    const row = await this.core.db.selectFrom('identity_app_creds').select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw notFoundAppCred(id);
    await this.purge([id]);
  }

  // ---- access rules ---------------------------------------------------------------------

  async listAccessRules(userId: string, filter: { service?: string; path?: string; method?: string } = {}): Promise<AccessRule[]> {
    let query = this.core.db.selectFrom('identity_access_rules').selectAll().where('user_id', '=', userId);
    if (filter.service !== undefined) query = query.where('service', '=', filter.service);
    if (filter.path !== undefined) query = query.where('path', '=', filter.path);
    if (filter.method !== undefined) query = query.where('method', '=', filter.method);
    const rows = await query.orderBy('service').orderBy('path').orderBy('method').execute();
    return rows.map(ruleOf);
  }

  /** A rule of `userId`; another user's rule is as good as missing. */
  async getAccessRule(userId: string, id: string): Promise<AccessRule> {
    const row = await this.core.db.selectFrom('identity_access_rules').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    if (!row) throw notFoundRule(id);
    return ruleOf(row);
  }

  async deleteAccessRule(userId: string, id: string): Promise<void> {
    await this.getAccessRule(userId, id);
    const used = await this.core.db.selectFrom('identity_app_cred_access_rules').select('app_cred_id').where('access_rule_id', '=', id).executeTakeFirst();
    if (used) throw forbidden('May not delete access rule in use');
    await this.core.db.deleteFrom('identity_access_rules').where('id', '=', id).execute();
    notify(this.core, 'access_rule', 'deleted', id);
  }

  // ---- authentication -------------------------------------------------------------------

  async authenticate(ref: AppCredAuthRef): Promise<{ userId: string; projectId: string; appCredId: string; expiresAt?: Date }> {
    let row: AppCredRow | undefined;
    if (ref.id) {
      row = await this.core.db.selectFrom('identity_app_creds').selectAll().where('id', '=', ref.id).executeTakeFirst();
      if (!row) throw notFoundAppCred(ref.id);
    } else if (ref.name) {
      if (!ref.user) throw badRequest('Expecting to find user in application_credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
      const userId = await this.resolveUserId(ref.user);
      row = await this.core.db.selectFrom('identity_app_creds').selectAll().where('user_id', '=', userId).where('name', '=', ref.name).executeTakeFirst();
      if (!row) throw notFoundAppCred(ref.name);
    } else {
      throw badRequest('Expecting to find id or name in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.');
    }
    // The credential binds to its owner whatever user the request names (LP#2148477).
    const user = await this.svc.users.findRow(row.user_id);
    if (!user) throw unauthorized();
    if (user.enabled !== 1) throw unauthorized(`User ${user.id} is disabled.`);
    const domain = await this.svc.resource.findProjectRow(user.domain_id);
    if (!domain || domain.enabled !== 1) throw unauthorized();
    const ok = await this.core.hasher.verify(ref.secret, row.secret_hash);
    if (!ok || isExpired(row.expires_at, this.core.clock.now())) throw unauthorized('Invalid application credential ID or secret');
    if (!row.project_id) throw unauthorized('Application credential is not bound to a project.');
    return { userId: row.user_id, projectId: row.project_id, appCredId: row.id, expiresAt: row.expires_at ? new Date(expiryTime(row.expires_at)) : undefined };
  }

  /** For token validation: the credential's facts and roles, or null when gone or expired. */
  async forToken(appCredId: string, now: Date): Promise<{ info: AppCredInfo; userId: string; projectId: string; roleIds: string[] } | null> {
    const row = await this.core.db.selectFrom('identity_app_creds').selectAll().where('id', '=', appCredId).executeTakeFirst();
    if (!row || !row.project_id || isExpired(row.expires_at, now)) return null;
    const [appCred] = await this.hydrate([row]);
    const info: AppCredInfo = { id: appCred.id, name: appCred.name, restricted: !appCred.unrestricted };
    if (appCred.accessRules) info.accessRules = appCred.accessRules;
    return { info, userId: row.user_id, projectId: row.project_id, roleIds: appCred.roleIds };
  }

  /** Whether a token obtained with this credential may manage credentials and trusts. */
  async isUnrestricted(appCredId: string): Promise<boolean> {
    const row = await this.core.db.selectFrom('identity_app_creds').select('unrestricted').where('id', '=', appCredId).executeTakeFirst();
    return row?.unrestricted === 1;
  }

  // ---- internals ------------------------------------------------------------------------

  private async resolveUserId(ref: UserRef): Promise<string> {
    if (ref.id) return ref.id;
    if (!ref.name) throw badRequest('Expecting to find id or name in user.');
    if (!ref.domain || (!ref.domain.id && !ref.domain.name)) throw badRequest('Expecting to find domain in user.');
    let domainId = ref.domain.id;
    if (!domainId) {
      const domain = await this.svc.resource.findDomainByName(ref.domain.name as string);
      if (!domain) throw unauthorized();
      domainId = domain.id;
    }
    const user = await this.svc.users.findByName(ref.name, domainId);
    if (!user) throw unauthorized();
    return user.id;
  }

  /** An access rule id for a request entry: reuse by id or by identical content, else create it (Keystone's semantics). */
  private async resolveRule(trx: IdentityCore['db'], userId: string, ref: AccessRuleRef): Promise<string> {
    if (ref.id) {
      const byId = await trx.selectFrom('identity_access_rules').selectAll().where('id', '=', ref.id).executeTakeFirst();
      if (byId) {
        if (byId.user_id !== userId) throw notFoundRule(ref.id);
        return byId.id;
      }
    }
    if (ref.service === undefined || ref.path === undefined || ref.method === undefined) {
      if (ref.id) throw notFoundRule(ref.id);
      throw badRequest("Invalid input for field 'access_rules': 'service', 'path' and 'method' are required for a new access rule.");
    }
    const same = await trx
      .selectFrom('identity_access_rules')
      .select('id')
      .where('user_id', '=', userId)
      .where('service', '=', ref.service)
      .where('path', '=', ref.path)
      .where('method', '=', ref.method)
      .executeTakeFirst();
    if (same) return same.id;
    const id = ref.id ?? hexId();
    await trx.insertInto('identity_access_rules').values({ id, user_id: userId, service: ref.service, path: ref.path, method: ref.method }).execute();
    return id;
  }

  private async hydrate(rows: AppCredRow[]): Promise<AppCred[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const roles = await this.core.db.selectFrom('identity_app_cred_roles').selectAll().where('app_cred_id', 'in', ids).execute();
    const links = await this.core.db
      .selectFrom('identity_app_cred_access_rules')
      .innerJoin('identity_access_rules', 'identity_access_rules.id', 'identity_app_cred_access_rules.access_rule_id')
      .select(['identity_app_cred_access_rules.app_cred_id as app_cred_id', 'identity_access_rules.id as id', 'service', 'path', 'method'])
      .where('identity_app_cred_access_rules.app_cred_id', 'in', ids)
      .execute();
    return rows.map((row) => {
      const rules = links.filter((l) => l.app_cred_id === row.id).map((l) => ({ id: l.id, service: l.service, path: l.path, method: l.method }));
      return {
        id: row.id,
        name: row.name,
        description: row.description,
        userId: row.user_id,
        projectId: row.project_id,
        system: row.system,
        expiresAt: row.expires_at,
        unrestricted: row.unrestricted === 1,
        roleIds: roles.filter((r) => r.app_cred_id === row.id).map((r) => r.role_id),
        accessRules: rules.length ? rules : null,
      };
    });
  }

  /** A user's credentials (optionally on one project), and with `withRules` their access rules too. */
  private async deleteWhere(userId: string, projectId: string | null, withRules: boolean): Promise<void> {
    let query = this.core.db.selectFrom('identity_app_creds').select('id').where('user_id', '=', userId);
    if (projectId) query = query.where('project_id', '=', projectId);
    const ids = (await query.execute()).map((r) => r.id);
    await this.purge(ids);
    if (withRules) await this.core.db.deleteFrom('identity_access_rules').where('user_id', '=', userId).execute();
  }

  private async purge(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_app_cred_roles').where('app_cred_id', 'in', ids).execute();
      await trx.deleteFrom('identity_app_cred_access_rules').where('app_cred_id', 'in', ids).execute();
      await trx.deleteFrom('identity_app_creds').where('id', 'in', ids).execute();
    });
    for (const id of ids) {
      await this.svc.revocations.revoke({ app_cred_id: id });
      notify(this.core, 'application_credential', 'deleted', id);
    }
  }
}
