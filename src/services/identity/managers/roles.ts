import { conflict, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { GLOBAL_ROLE_DOMAIN, parseJson, type RoleRow } from '../store/tables.js';
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

/** Roles and implied-role inference rules. */
export class RoleManager {
  constructor(private readonly core: IdentityCore) {}

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

  async createRole(input: NewRole): Promise<Role> {
    const domain = input.domainId ?? GLOBAL_ROLE_DOMAIN;
    const dup = await this.core.db.selectFrom('identity_roles').select('id').where('name', '=', input.name).where('domain_id', '=', domain).executeTakeFirst();
    if (dup) throw conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${input.name}.`);
    const row: RoleRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: domain,
      description: input.description ?? null,
      options: JSON.stringify(input.options ?? {}),
      extra: JSON.stringify(input.extra ?? {}),
    };
    await this.core.db.insertInto('identity_roles').values(row).execute();
    notify(this.core, 'role', 'created', row.id);
    return roleFromRow(row);
  }

  async addImplied(priorRoleId: string, impliedRoleId: string): Promise<void> {
    await this.core.db
      .insertInto('identity_implied_roles')
      .values({ prior_role_id: priorRoleId, implied_role_id: impliedRoleId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.core.onRevocation();
  }

  /** Expands role ids with every role they imply, transitively (cycles are harmless). */
  async expandImplied(roleIds: Iterable<string>): Promise<Set<string>> {
    const rules = await this.core.db.selectFrom('identity_implied_roles').selectAll().execute();
    const implies = new Map<string, string[]>();
    for (const rule of rules) implies.set(rule.prior_role_id, [...(implies.get(rule.prior_role_id) ?? []), rule.implied_role_id]);
    const out = new Set<string>();
    const stack = [...roleIds];
    while (stack.length) {
      const id = stack.pop() as string;
      if (out.has(id)) continue;
      out.add(id);
      stack.push(...(implies.get(id) ?? []));
    }
    return out;
  }
}
