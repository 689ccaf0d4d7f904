import type { AssignmentRow, AssignmentType } from '../store/tables.js';
import type { Role, ScopeTarget } from '../model/types.js';
import type { IdentityCore } from './core.js';
import type { ResourceManager } from './resource.js';
import type { RoleManager } from './roles.js';
import type { UserManager } from './users.js';

export const SYSTEM_TARGET = 'system';

/** Role assignments (grants) and the effective roles a user holds on a scope. */
export class AssignmentManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly resource: ResourceManager,
    private readonly users: UserManager,
    private readonly roles: RoleManager,
  ) {}

  async grant(type: AssignmentType, actorId: string, targetId: string, roleId: string, inherited = false): Promise<void> {
    await this.core.db
      .insertInto('identity_assignments')
      .values({ type, actor_id: actorId, target_id: targetId, role_id: roleId, inherited: inherited ? 1 : 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.core.onRevocation();
  }

  /**
   * Role ids held on a scope, before implied-role expansion: direct user and group
   * assignments, plus inherited ones from the project's domain and its parents.
   */
  async directRoleIds(userId: string, scope: ScopeTarget): Promise<Set<string>> {
    const actors = [userId, ...(await this.users.groupIdsOf(userId))];
    const rows = await this.core.db
      .selectFrom('identity_assignments')
      .selectAll()
      .where('actor_id', 'in', actors)
      .execute();
    const out = new Set<string>();
    const add = (predicate: (r: AssignmentRow) => boolean) => rows.filter(predicate).forEach((r) => out.add(r.role_id));
    if (scope.kind === 'system') {
      add((r) => (r.type === 'UserSystem' || r.type === 'GroupSystem') && r.target_id === SYSTEM_TARGET);
      return out;
    }
    if (scope.kind === 'domain') {
      add((r) => (r.type === 'UserDomain' || r.type === 'GroupDomain') && r.target_id === scope.domainId && r.inherited === 0);
      return out;
    }
    const project = await this.resource.getProject(scope.projectId);
    const ancestors = await this.resource.ancestors(project.id);
    const ancestorIds = new Set(ancestors.filter((p) => !p.isDomain).map((p) => p.id));
    add((r) => (r.type === 'UserProject' || r.type === 'GroupProject') && r.target_id === project.id && r.inherited === 0);
    add((r) => (r.type === 'UserProject' || r.type === 'GroupProject') && ancestorIds.has(r.target_id) && r.inherited === 1);
    add((r) => (r.type === 'UserDomain' || r.type === 'GroupDomain') && r.target_id === project.domainId && r.inherited === 1);
    return out;
  }

  /** Effective roles for a token: implied roles expanded, domain-specific roles dropped (Keystone keeps only their implications). */
  async effectiveRoles(userId: string, scope: ScopeTarget): Promise<Role[]> {
    const direct = await this.directRoleIds(userId, scope);
    const expanded = await this.roles.expandImplied(direct);
    const roles = await this.roles.rolesByIds([...expanded]);
    return roles.filter((r) => r.domainId === null).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Projects on which the user has any effective role (for /v3/auth/projects and /v3/users/{id}/projects). */
  async projectIdsWithRoles(userId: string): Promise<string[]> {
    const actors = [userId, ...(await this.users.groupIdsOf(userId))];
    const rows = await this.core.db.selectFrom('identity_assignments').selectAll().where('actor_id', 'in', actors).execute();
    const ids = new Set<string>();
    const projectRows = await this.core.db.selectFrom('identity_projects').select(['id', 'parent_id', 'domain_id', 'is_domain']).where('is_domain', '=', 0).execute();
    const children = new Map<string, string[]>();
    for (const p of projectRows) if (p.parent_id) children.set(p.parent_id, [...(children.get(p.parent_id) ?? []), p.id]);
    const subtree = (root: string): string[] => {
      const out: string[] = [];
      const stack = [...(children.get(root) ?? [])];
      while (stack.length) {
        const id = stack.pop() as string;
        out.push(id);
        stack.push(...(children.get(id) ?? []));
      }
      return out;
    };
    for (const r of rows) {
      if (r.type === 'UserProject' || r.type === 'GroupProject') {
        if (r.inherited === 0) ids.add(r.target_id);
        else subtree(r.target_id).forEach((id) => ids.add(id));
      } else if ((r.type === 'UserDomain' || r.type === 'GroupDomain') && r.inherited === 1) {
        projectRows.filter((p) => p.domain_id === r.target_id).forEach((p) => ids.add(p.id));
      }
    }
    return [...ids];
  }

  /** Domains on which the user has a direct (non-inherited) role, for /v3/auth/domains. */
  async domainIdsWithRoles(userId: string): Promise<string[]> {
    const actors = [userId, ...(await this.users.groupIdsOf(userId))];
    const rows = await this.core.db
      .selectFrom('identity_assignments')
      .select('target_id')
      .where('actor_id', 'in', actors)
      .where('type', 'in', ['UserDomain', 'GroupDomain'])
      .where('inherited', '=', 0)
      .execute();
    return [...new Set(rows.map((r) => r.target_id))];
  }
}
