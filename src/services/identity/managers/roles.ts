import { badRequest, CloudError, conflict, forbidden, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { DOMAIN_ROOT, GLOBAL_ROLE_DOMAIN, parseJson, type RoleRow } from '../store/tables.js';
import type { Role } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';

export function roleFromRow(row: RoleRow): Role {
  return {
    id: row.id,
    name: row.name,
    domainId: row.domain_id === GLOBAL_ROLE_DOMAIN ? null : row.domain_id,
    description: row.description,
    options: parseJson(row.options),
    extra: parseJson(row.extra),
  };
}

export interface NewRole {
  id?: string;
  name: string;
  domainId?: string | null;
  description?: string | null;
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export interface RolePatch {
  name?: string;
  /** Present only when the body carried domain_id; changing it is refused. */
  domainId?: string | null;
  description?: string;
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Keystone's name filters: exact `name`, or `name__<op>` inexact ones. */
export interface NameFilter {
  op: 'equals' | 'contains' | 'startswith' | 'endswith';
  value: string;
  caseSensitive: boolean;
}

export interface RoleListFilter {
  /** null lists global roles only (Keystone's default without a domain_id filter). */
  domainId: string | null;
  names?: NameFilter[];
}

export interface RoleInference {
  prior: Role;
  implies: Role[];
}

/** Keystone's [assignment] prohibited_implied_role default. */
const PROHIBITED_IMPLIED_ROLES = new Set(['admin']);

/** True for a unique/primary-key violation on either engine (a lost check-then-insert race). */
export function isUniqueViolation(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function immutable(role: Role): boolean {
  return role.options.immutable === true;
}

function matches(name: string, filter: NameFilter): boolean {
  const target = filter.caseSensitive ? name : name.toLowerCase();
  const value = filter.caseSensitive ? filter.value : filter.value.toLowerCase();
  switch (filter.op) {
    case 'equals':
      return target === value;
    case 'contains':
      return target.includes(value);
    case 'startswith':
      return target.startsWith(value);
    case 'endswith':
      return target.endsWith(value);
  }
}

/** Options are merged; a null value removes an option, as Keystone's resource options do. */
function mergeOptions(current: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Roles and implied-role inference rules. */
export class RoleManager {
  /**
   * Every role and inference rule, for token validation. Local writes drop it; other API
   * processes see changes within validation_cache_seconds (the token cache's own staleness),
   * and a role id it doesn't know forces a reload.
   */
  private catalog: { loadedAt: number; roles: Map<string, Role>; graph: Map<string, string[]> } | null = null;

  constructor(private readonly core: IdentityCore) {}

  private changed(): void {
    this.catalog = null;
    this.core.onRevocation();
  }

  private async roleCatalog(requiredIds: readonly string[]): Promise<{ roles: Map<string, Role>; graph: Map<string, string[]> }> {
    const ttl = this.core.config.identity.validation_cache_seconds * 1000;
    const now = Date.now();
    const fresh = this.catalog && now - this.catalog.loadedAt < ttl;
    if (this.catalog && fresh && requiredIds.every((id) => this.catalog?.roles.has(id))) return this.catalog;
    const [rows, graph] = await Promise.all([this.core.db.selectFrom('identity_roles').selectAll().execute(), this.impliedGraph()]);
    this.catalog = { loadedAt: now, roles: new Map(rows.map((r) => [r.id, roleFromRow(r)])), graph };
    return this.catalog;
  }

  /** Roles held through `roleIds` and everything they imply, transitively (token validation's hot path). */
  async expandToRoles(roleIds: Iterable<string>): Promise<Role[]> {
    const start = [...roleIds];
    if (start.length === 0) return [];
    const { roles, graph } = await this.roleCatalog(start);
    const seen = new Set<string>();
    const stack = start;
    while (stack.length) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(graph.get(id) ?? []));
    }
    return [...seen].map((id) => roles.get(id)).filter((r): r is Role => r !== undefined);
  }

  async getRole(id: string): Promise<Role> {
    const row = await this.core.db.selectFrom('identity_roles').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find role: ${id}.`);
    return roleFromRow(row);
  }

  async findByName(name: string, domainId: string | null = null): Promise<Role | undefined> {
    const row = await this.core.db
      .selectFrom('identity_roles')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId ?? GLOBAL_ROLE_DOMAIN)
      .executeTakeFirst();
    return row ? roleFromRow(row) : undefined;
  }

  async rolesByIds(ids: readonly string[]): Promise<Role[]> {
    if (ids.length === 0) return [];
    const rows = await this.core.db.selectFrom('identity_roles').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(roleFromRow);
  }

  async listRoles(filter: RoleListFilter): Promise<Role[]> {
    const rows = await this.core.db
      .selectFrom('identity_roles')
      .selectAll()
      .where('domain_id', '=', filter.domainId ?? GLOBAL_ROLE_DOMAIN)
      .orderBy('name')
      .orderBy('id')
      .execute();
    const names = filter.names ?? [];
    return rows.filter((r) => names.every((f) => matches(r.name, f))).map(roleFromRow);
  }

  async createRole(input: NewRole): Promise<Role> {
    const domain = input.domainId ?? GLOBAL_ROLE_DOMAIN;
    if (input.domainId) await this.requireDomain(input.domainId);
    const duplicate = () => conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${input.name}.`);
    const dup = await this.core.db.selectFrom('identity_roles').select('id').where('name', '=', input.name).where('domain_id', '=', domain).executeTakeFirst();
    if (dup) throw duplicate();
    const row: RoleRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: domain,
      description: input.description ?? null,
      options: JSON.stringify(mergeOptions({}, input.options ?? {})),
      extra: JSON.stringify(input.extra ?? {}),
    };
    try {
      await this.core.db.insertInto('identity_roles').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      throw err;
    }
    notify(this.core, 'role', 'created', row.id);
    this.catalog = null;
    return roleFromRow(row);
  }

  async updateRole(id: string, patch: RolePatch): Promise<Role> {
    const role = await this.getRole(id);
    if (immutable(role)) {
      // The only change allowed on an immutable role is clearing the flag, alone.
      const onlyOptions = patch.name === undefined && patch.description === undefined && patch.domainId === undefined && Object.keys(patch.extra ?? {}).length === 0;
      const clearing = patch.options !== undefined && 'immutable' in patch.options && (patch.options.immutable === false || patch.options.immutable === null);
      if (!onlyOptions || !clearing) {
        throw forbidden(`Unable to update immutable role resource: \`${id}. Set resource option "immutable" to false first.`);
      }
    }
    if (patch.domainId !== undefined && patch.domainId !== role.domainId) throw badRequest('Update of `domain_id` is not allowed.');
    const name = patch.name ?? role.name;
    const duplicate = () => conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${name}.`);
    if (name !== role.name) {
      const dup = await this.core.db
        .selectFrom('identity_roles')
        .select('id')
        .where('name', '=', name)
        .where('domain_id', '=', role.domainId ?? GLOBAL_ROLE_DOMAIN)
        .where('id', '!=', id)
        .executeTakeFirst();
      if (dup) throw duplicate();
    }
    const updated: Role = {
      ...role,
      name,
      description: patch.description !== undefined ? patch.description : role.description,
      options: patch.options ? mergeOptions(role.options, patch.options) : role.options,
      extra: { ...role.extra, ...(patch.extra ?? {}) },
    };
    try {
      await this.core.db
        .updateTable('identity_roles')
        .set({ name: updated.name, description: updated.description, options: JSON.stringify(updated.options), extra: JSON.stringify(updated.extra) })
        .where('id', '=', id)
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      throw err;
    }
    notify(this.core, 'role', 'updated', id);
    this.changed();
    return updated;
  }

  /** Deletes a role with its assignments and inference rules; tokens recompute their roles. */
  async deleteRole(id: string): Promise<void> {
    const role = await this.getRole(id);
    if (immutable(role)) {
      throw forbidden(`Unable to delete immutable role resource: \`${id}. Set resource option "immutable" to false first.`);
    }
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_assignments').where('role_id', '=', id).execute();
      await trx.deleteFrom('identity_implied_roles').where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)])).execute();
      await trx.deleteFrom('identity_roles').where('id', '=', id).execute();
    });
    notify(this.core, 'role', 'deleted', id);
    this.changed();
  }

  /** Removes the domain-specific roles of a domain being deleted (with their assignments and rules). */
  async deleteDomainRoles(domainId: string): Promise<void> {
    const rows = await this.core.db.selectFrom('identity_roles').select('id').where('domain_id', '=', domainId).execute();
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id);
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_assignments').where('role_id', 'in', ids).execute();
      await trx.deleteFrom('identity_implied_roles').where((eb) => eb.or([eb('prior_role_id', 'in', ids), eb('implied_role_id', 'in', ids)])).execute();
      await trx.deleteFrom('identity_roles').where('id', 'in', ids).execute();
    });
    for (const id of ids) notify(this.core, 'role', 'deleted', id);
    this.changed();
  }

  /** Bootstrap's idempotent rule insert (no validation). */
  async addImplied(priorRoleId: string, impliedRoleId: string): Promise<void> {
    await this.core.db
      .insertInto('identity_implied_roles')
      .values({ prior_role_id: priorRoleId, implied_role_id: impliedRoleId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.changed();
  }

  /**
   * PUT /v3/roles/{prior}/implies/{implied}. Keystone refuses (403) a prohibited implied role
   * name and a global role implying a domain-specific one; cycles are allowed (expansion stops).
   */
  async createImplied(priorRoleId: string, impliedRoleId: string): Promise<{ prior: Role; implied: Role }> {
    const prior = await this.getRole(priorRoleId);
    const implied = await this.getRole(impliedRoleId);
    if (PROHIBITED_IMPLIED_ROLES.has(implied.name)) throw forbidden(`${impliedRoleId} cannot be an implied roles.`);
    if (prior.domainId === null && implied.domainId !== null) throw forbidden('Global role cannot imply a domain-specific role');
    const duplicate = () => conflict('Conflict occurred attempting to store implied_role - Duplicate entry.');
    const existing = await this.findRule(priorRoleId, impliedRoleId);
    if (existing) throw duplicate();
    try {
      await this.core.db.insertInto('identity_implied_roles').values({ prior_role_id: priorRoleId, implied_role_id: impliedRoleId }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate();
      throw err;
    }
    notify(this.core, 'implied_role', 'created', `${priorRoleId}/${impliedRoleId}`);
    this.changed();
    return { prior, implied };
  }

  async getImplied(priorRoleId: string, impliedRoleId: string): Promise<{ prior: Role; implied: Role }> {
    const prior = await this.getRole(priorRoleId);
    const implied = await this.getRole(impliedRoleId);
    if (!(await this.findRule(priorRoleId, impliedRoleId))) throw impliedNotFound(priorRoleId, impliedRoleId);
    return { prior, implied };
  }

  async deleteImplied(priorRoleId: string, impliedRoleId: string): Promise<void> {
    await this.getRole(priorRoleId);
    await this.getRole(impliedRoleId);
    const result = await this.core.db
      .deleteFrom('identity_implied_roles')
      .where('prior_role_id', '=', priorRoleId)
      .where('implied_role_id', '=', impliedRoleId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw impliedNotFound(priorRoleId, impliedRoleId);
    notify(this.core, 'implied_role', 'deleted', `${priorRoleId}/${impliedRoleId}`);
    this.changed();
  }

  /** The roles a prior role directly implies. */
  async listImplied(priorRoleId: string): Promise<RoleInference> {
    const prior = await this.getRole(priorRoleId);
    const rules = await this.core.db.selectFrom('identity_implied_roles').select('implied_role_id').where('prior_role_id', '=', priorRoleId).execute();
    const implies = await this.rolesByIds(rules.map((r) => r.implied_role_id));
    return { prior, implies: implies.sort(byName) };
  }

  /** Every inference rule, grouped by prior role (GET /v3/role_inferences). */
  async listInferenceRules(): Promise<RoleInference[]> {
    const rules = await this.core.db.selectFrom('identity_implied_roles').selectAll().execute();
    const roles = new Map((await this.rolesByIds([...new Set(rules.flatMap((r) => [r.prior_role_id, r.implied_role_id]))])).map((r) => [r.id, r]));
    const grouped = new Map<string, Role[]>();
    for (const rule of rules) {
      const implied = roles.get(rule.implied_role_id);
      if (!implied || !roles.has(rule.prior_role_id)) continue;
      grouped.set(rule.prior_role_id, [...(grouped.get(rule.prior_role_id) ?? []), implied]);
    }
    return [...grouped.entries()]
      .map(([priorId, implies]) => ({ prior: roles.get(priorId) as Role, implies: implies.sort(byName) }))
      .sort((a, b) => byName(a.prior, b.prior));
  }

  /** prior role id -> the role ids it directly implies. */
  async impliedGraph(): Promise<Map<string, string[]>> {
    const rules = await this.core.db.selectFrom('identity_implied_roles').selectAll().execute();
    const implies = new Map<string, string[]>();
    for (const rule of rules) implies.set(rule.prior_role_id, [...(implies.get(rule.prior_role_id) ?? []), rule.implied_role_id]);
    return implies;
  }

  /** Expands role ids with every role they imply, transitively (cycles are harmless). */
  async expandImplied(roleIds: Iterable<string>): Promise<Set<string>> {
    const start = [...roleIds];
    const out = new Set<string>();
    if (start.length === 0) return out;
    const implies = await this.impliedGraph();
    const stack = start;
    while (stack.length) {
      const id = stack.pop() as string;
      if (out.has(id)) continue;
      out.add(id);
      stack.push(...(implies.get(id) ?? []));
    }
    return out;
  }

  private async findRule(priorRoleId: string, impliedRoleId: string): Promise<boolean> {
    const row = await this.core.db
      .selectFrom('identity_implied_roles')
      .select('prior_role_id')
      .where('prior_role_id', '=', priorRoleId)
      .where('implied_role_id', '=', impliedRoleId)
      .executeTakeFirst();
    return Boolean(row);
  }

  private async requireDomain(domainId: string): Promise<void> {
    const row = await this.core.db
      .selectFrom('identity_projects')
      .select('id')
      .where('id', '=', domainId)
      .where('domain_id', '=', DOMAIN_ROOT)
      .executeTakeFirst();
    if (!row) throw notFound(`Could not find domain: ${domainId}.`);
  }
}

function byName(a: Role, b: Role): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function impliedNotFound(priorRoleId: string, impliedRoleId: string): CloudError {
  return notFound(`${priorRoleId} does not imply ${impliedRoleId}.`);
}
