import { badRequest, forbidden, notFound } from '../../../common/errors.js';
import { DOMAIN_ROOT, type AssignmentRow, type AssignmentType } from '../store/tables.js';
import type { Role, ScopeTarget } from '../model/types.js';
import type { IdentityCore } from './core.js';
import type { ResourceManager } from './resource.js';
import type { RoleManager } from './roles.js';
import type { UserManager } from './users.js';

export const SYSTEM_TARGET = 'system';

export type ActorKind = 'user' | 'group';
export interface Actor {
  kind: ActorKind;
  id: string;
}
export type GrantTarget = { kind: 'project'; id: string } | { kind: 'domain'; id: string } | { kind: 'system' };

/** One grant as the grant APIs name it: who, where, which role, inherited to projects or not. */
export interface GrantSpec {
  actor: Actor;
  target: GrantTarget;
  roleId: string;
  inherited: boolean;
}

/** What the grant APIs' policy checks may look at (Keystone builds the same target). */
export interface GrantContext {
  role?: Role;
  user?: { id: string; name: string; domain_id: string };
  group?: { id: string; name: string; domain_id: string };
  project?: { id: string; name: string; domain_id: string; parent_id: string | null };
  domain?: { id: string; name: string };
}

/**
 * A role assignment as /v3/role_assignments reports it. `indirect` records where an
 * effective assignment came from: a group membership, an inherited grant on a parent
 * project or domain, or a prior role implying this one.
 */
export interface AssignmentRef {
  roleId: string;
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  /** A direct grant inherited to the projects below its target. */
  inherited: boolean;
  indirect: { groupId?: string; projectId?: string; domainId?: string; roleId?: string };
}

export interface AssignmentFilter {
  roleId?: string;
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  includeSubtree?: boolean;
  /** undefined: both; true: only grants inherited to projects; false: only the others. */
  inherited?: boolean;
  effective?: boolean;
}

export interface NamedEntity {
  name: string;
  domainId?: string;
  domainName?: string;
}

/** Names looked up for include_names; a vanished user or group reads as empty strings, as in Keystone. */
export interface NameBook {
  users: Map<string, NamedEntity>;
  groups: Map<string, NamedEntity>;
  projects: Map<string, NamedEntity>;
  domains: Map<string, NamedEntity>;
  roles: Map<string, NamedEntity>;
}

interface ProjectNode {
  id: string;
  parentId: string | null;
  domainId: string;
}

const PROJECT_TYPES: AssignmentType[] = ['UserProject', 'GroupProject'];
const DOMAIN_TYPES: AssignmentType[] = ['UserDomain', 'GroupDomain'];
const SYSTEM_TYPES: AssignmentType[] = ['UserSystem', 'GroupSystem'];

function assignmentType(actor: ActorKind, target: GrantTarget['kind']): AssignmentType {
  const a = actor === 'user' ? 'User' : 'Group';
  const t = target === 'project' ? 'Project' : target === 'domain' ? 'Domain' : 'System';
  return `${a}${t}` as AssignmentType;
}

function targetId(target: GrantTarget): string {
  return target.kind === 'system' ? SYSTEM_TARGET : target.id;
}

const isUserRow = (r: AssignmentRow) => r.type.startsWith('User');

/** The ref a stored row stands for, before any expansion. */
function refOfRow(r: AssignmentRow): AssignmentRef {
  const ref: AssignmentRef = { roleId: r.role_id, inherited: r.inherited === 1, indirect: {} };
  if (isUserRow(r)) ref.userId = r.actor_id;
  else ref.groupId = r.actor_id;
  if (PROJECT_TYPES.includes(r.type)) ref.projectId = r.target_id;
  else if (DOMAIN_TYPES.includes(r.type)) ref.domainId = r.target_id;
  else ref.system = true;
  return ref;
}

/** Role assignments (grants) and the effective roles a user holds on a scope. */
export class AssignmentManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly resource: ResourceManager,
    private readonly users: UserManager,
    private readonly roles: RoleManager,
  ) {}

  /** Low-level idempotent insert (bootstrap); the API goes through createGrant. */
  async grant(type: AssignmentType, actorId: string, targetId: string, roleId: string, inherited = false): Promise<void> {
    await this.core.db
      .insertInto('identity_assignments')
      .values({ type, actor_id: actorId, target_id: targetId, role_id: roleId, inherited: inherited ? 1 : 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    this.core.onRevocation();
  }

  // ---- grant APIs --------------------------------------------------------------------------

  /**
   * Looks up everything a grant names, 404 for the first missing one (role, then actor, then
   * target). A revoke may name an actor that no longer exists, to clean up after it.
   */
  async grantContext(spec: Omit<GrantSpec, 'roleId' | 'inherited'> & { roleId?: string }, opts: { allowMissingActor?: boolean } = {}): Promise<GrantContext> {
    const ctx: GrantContext = {};
    if (spec.roleId !== undefined) ctx.role = await this.roles.getRole(spec.roleId);
    if (spec.actor.kind === 'user') {
      const row = await this.core.db.selectFrom('identity_users').select(['id', 'name', 'domain_id']).where('id', '=', spec.actor.id).executeTakeFirst();
      if (row) ctx.user = row;
      else if (!opts.allowMissingActor) throw notFound(`Could not find user: ${spec.actor.id}.`);
    } else {
      const row = await this.core.db.selectFrom('identity_groups').select(['id', 'name', 'domain_id']).where('id', '=', spec.actor.id).executeTakeFirst();
      if (row) ctx.group = row;
      else if (!opts.allowMissingActor) throw notFound(`Could not find group: ${spec.actor.id}.`);
    }
    if (spec.target.kind === 'project') {
      const row = await this.resource.findProjectRow(spec.target.id);
      if (!row || row.is_domain === 1) throw notFound(`Could not find project: ${spec.target.id}.`);
      ctx.project = { id: row.id, name: row.name, domain_id: row.domain_id, parent_id: row.parent_id };
    } else if (spec.target.kind === 'domain') {
      const row = await this.resource.findProjectRow(spec.target.id);
      if (!row || row.is_domain !== 1) throw notFound(`Could not find domain: ${spec.target.id}.`);
      ctx.domain = { id: row.id, name: row.name };
    }
    return ctx;
  }

  /** PUT .../roles/{role_id}: idempotent (an existing grant is not an error). */
  async createGrant(spec: GrantSpec): Promise<void> {
    const ctx = await this.grantContext(spec);
    const role = ctx.role as Role;
    if (spec.target.kind === 'project' && role.domainId !== null && ctx.project?.domain_id !== role.domainId) {
      throw forbidden(`Project ${spec.target.id} must be in the same domain as the role ${role.id} being assigned.`);
    }
    if (spec.target.kind === 'system' && role.domainId !== null) {
      throw badRequest(`Role ${role.id} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`);
    }
    await this.grant(assignmentType(spec.actor.kind, spec.target.kind), spec.actor.id, targetId(spec.target), spec.roleId, spec.inherited);
    this.publish('created', spec);
  }

  /** HEAD/GET .../roles/{role_id}: 404 unless that exact grant exists. */
  async checkGrant(spec: GrantSpec): Promise<void> {
    await this.grantContext(spec);
    if (!(await this.findGrant(spec))) throw assignmentNotFound(spec);
  }

  async revokeGrant(spec: GrantSpec): Promise<void> {
    await this.grantContext(spec, { allowMissingActor: true });
    const result = await this.core.db
      .deleteFrom('identity_assignments')
      .where('type', '=', assignmentType(spec.actor.kind, spec.target.kind))
      .where('actor_id', '=', spec.actor.id)
      .where('target_id', '=', targetId(spec.target))
      .where('role_id', '=', spec.roleId)
      .where('inherited', '=', spec.inherited ? 1 : 0)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw assignmentNotFound(spec);
    this.core.onRevocation();
    this.publish('deleted', spec);
  }

  /** GET .../roles: the roles granted to an actor on a target (directly, not effective). */
  async listGrants(actor: Actor, target: GrantTarget, inherited: boolean): Promise<Role[]> {
    await this.grantContext({ actor, target });
    const rows = await this.core.db
      .selectFrom('identity_assignments')
      .select('role_id')
      .where('type', '=', assignmentType(actor.kind, target.kind))
      .where('actor_id', '=', actor.id)
      .where('target_id', '=', targetId(target))
      .where('inherited', '=', inherited ? 1 : 0)
      .execute();
    const roles = await this.roles.rolesByIds(rows.map((r) => r.role_id));
    return roles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes every grant of a user or group (called when the actor is deleted). */
  async deleteActorAssignments(actorId: string): Promise<void> {
    await this.core.db.deleteFrom('identity_assignments').where('actor_id', '=', actorId).execute();
    this.core.onRevocation();
  }

  /** Removes every grant on a project or domain (called when the target is deleted). */
  async deleteTargetAssignments(targetId: string): Promise<void> {
    await this.core.db.deleteFrom('identity_assignments').where('target_id', '=', targetId).where('type', '!=', 'UserSystem').where('type', '!=', 'GroupSystem').execute();
    this.core.onRevocation();
  }

  private async findGrant(spec: GrantSpec): Promise<boolean> {
    const row = await this.core.db
      .selectFrom('identity_assignments')
      .select('role_id')
      .where('type', '=', assignmentType(spec.actor.kind, spec.target.kind))
      .where('actor_id', '=', spec.actor.id)
      .where('target_id', '=', targetId(spec.target))
      .where('role_id', '=', spec.roleId)
      .where('inherited', '=', spec.inherited ? 1 : 0)
      .executeTakeFirst();
    return Boolean(row);
  }

  private publish(operation: 'created' | 'deleted', spec: GrantSpec): void {
    const payload: Record<string, unknown> = { role: spec.roleId, inherited_to_projects: spec.inherited };
    payload[spec.actor.kind] = spec.actor.id;
    if (spec.target.kind === 'system') payload.system = 'all';
    else payload[spec.target.kind] = spec.target.id;
    this.core.events.publish(`identity.role_assignment.${operation}`, payload, { publisher: 'identity' });
  }

  // ---- effective roles (tokens) ------------------------------------------------------------

  /**
   * Role ids held on a scope, before implied-role expansion: direct user and group
   * assignments, plus inherited ones from the project's domain and its parents.
   * Runs on every uncached token validation, so it asks only for rows that can apply.
   */
  async directRoleIds(userId: string, scope: ScopeTarget): Promise<Set<string>> {
    const db = this.core.db;
    const base = db
      .selectFrom('identity_assignments')
      .selectAll()
      .where((eb) => eb.or([eb('actor_id', '=', userId), eb('actor_id', 'in', eb.selectFrom('identity_group_members').select('group_id').where('user_id', '=', userId))]));
    const out = new Set<string>();
    if (scope.kind === 'system') {
      const rows = await base.where('type', 'in', SYSTEM_TYPES).where('target_id', '=', SYSTEM_TARGET).execute();
      rows.forEach((r) => out.add(r.role_id));
      return out;
    }
    if (scope.kind === 'domain') {
      const rows = await base.where('type', 'in', DOMAIN_TYPES).where('target_id', '=', scope.domainId).where('inherited', '=', 0).execute();
      rows.forEach((r) => out.add(r.role_id));
      return out;
    }
    const projectId = scope.projectId;
    // The project's domain comes from a subquery: one round trip in the common case.
    const rows = await base
      .where((eb) =>
        eb.or([
          eb.and([eb('type', 'in', PROJECT_TYPES), eb('target_id', '=', projectId), eb('inherited', '=', 0)]),
          eb.and([
            eb('type', 'in', DOMAIN_TYPES),
            eb('target_id', '=', eb.selectFrom('identity_projects').select('domain_id').where('id', '=', projectId).where('is_domain', '=', 0)),
            eb('inherited', '=', 1),
          ]),
          eb.and([eb('type', 'in', PROJECT_TYPES), eb('inherited', '=', 1)]),
        ]),
      )
      .execute();
    const fromParents: AssignmentRow[] = [];
    for (const r of rows) {
      if (r.inherited === 1 && PROJECT_TYPES.includes(r.type)) fromParents.push(r);
      else out.add(r.role_id);
    }
    // Parents are only walked when an inherited project grant could apply.
    if (fromParents.length > 0) {
      const ancestors = await this.resource.ancestors(projectId);
      const ancestorIds = new Set(ancestors.filter((p) => !p.isDomain).map((p) => p.id));
      fromParents.filter((r) => ancestorIds.has(r.target_id)).forEach((r) => out.add(r.role_id));
    }
    return out;
  }

  /**
   * Effective roles for a token: implied roles expanded, domain-specific roles dropped
   * (Keystone keeps only their implications) unless includeDomainRoles (trusts need them).
   */
  async effectiveRoles(userId: string, scope: ScopeTarget, opts: { includeDomainRoles?: boolean } = {}): Promise<Role[]> {
    const direct = await this.directRoleIds(userId, scope);
    if (direct.size === 0) return [];
    const roles = await this.roles.expandToRoles(direct);
    return roles.filter((r) => opts.includeDomainRoles || r.domainId === null).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Projects on which the user has any effective role (for /v3/auth/projects and /v3/users/{id}/projects). */
  async projectIdsWithRoles(userId: string): Promise<string[]> {
    const actors = [userId, ...(await this.users.groupIdsOf(userId))];
    const all = await this.core.db.selectFrom('identity_assignments').selectAll().where('actor_id', 'in', actors).execute();
    const rows = await this.withTokenRoles(all);
    const ids = new Set<string>();
    if (rows.length === 0) return [];
    const tree = await this.projectTree();
    for (const r of rows) {
      if (PROJECT_TYPES.includes(r.type)) {
        if (r.inherited === 0) ids.add(r.target_id);
        else tree.subtree(r.target_id).forEach((id) => ids.add(id));
      } else if (DOMAIN_TYPES.includes(r.type) && r.inherited === 1) {
        tree.inDomain(r.target_id).forEach((id) => ids.add(id));
      }
    }
    return [...ids];
  }

  /** Domains on which the user has a direct (non-inherited) role, for /v3/auth/domains. */
  async domainIdsWithRoles(userId: string): Promise<string[]> {
    const actors = [userId, ...(await this.users.groupIdsOf(userId))];
    const rows = await this.core.db
      .selectFrom('identity_assignments')
      .select(['target_id', 'role_id'])
      .where('actor_id', 'in', actors)
      .where('type', 'in', DOMAIN_TYPES)
      .where('inherited', '=', 0)
      .execute();
    return [...new Set((await this.withTokenRoles(rows)).map((r) => r.target_id))];
  }

  /** Drops grants that would put no role in a token (a domain-specific role implying no global one). */
  private async withTokenRoles<T extends { role_id: string }>(rows: T[]): Promise<T[]> {
    const useful = new Map<string, boolean>();
    for (const roleId of new Set(rows.map((r) => r.role_id))) {
      useful.set(roleId, (await this.roles.expandToRoles([roleId])).some((r) => r.domainId === null));
    }
    return rows.filter((r) => useful.get(r.role_id) === true);
  }

  // ---- /v3/role_assignments ----------------------------------------------------------------

  /**
   * Lists assignments matching the filters. Effective mode expands group grants to the
   * group's members, inherited grants to the projects below them and prior roles to the
   * roles they imply, then drops domain-specific roles and the inherited grants themselves.
   */
  async listRoleAssignments(filter: AssignmentFilter): Promise<AssignmentRef[]> {
    let subtree: string[] | null = null;
    let tree: ProjectTree | null = null;
    if (filter.projectId && (filter.includeSubtree || filter.effective)) {
      const row = await this.resource.findProjectRow(filter.projectId);
      if (!row || row.is_domain === 1) throw notFound(`Could not find project: ${filter.projectId}.`);
    }
    if (filter.projectId && filter.includeSubtree) {
      tree = await this.projectTree();
      subtree = tree.subtree(filter.projectId);
    }
    return filter.effective ? this.listEffective(filter, subtree, tree) : this.listDirect(filter, subtree);
  }

  private async listDirect(filter: AssignmentFilter, subtree: string[] | null): Promise<AssignmentRef[]> {
    let query = this.core.db.selectFrom('identity_assignments').selectAll();
    if (filter.userId) query = query.where('actor_id', '=', filter.userId).where('type', 'in', ['UserProject', 'UserDomain', 'UserSystem']);
    if (filter.groupId) query = query.where('actor_id', '=', filter.groupId).where('type', 'in', ['GroupProject', 'GroupDomain', 'GroupSystem']);
    if (filter.roleId) query = query.where('role_id', '=', filter.roleId);
    if (filter.inherited !== undefined) query = query.where('inherited', '=', filter.inherited ? 1 : 0);
    if (filter.projectId) query = query.where('type', 'in', PROJECT_TYPES).where('target_id', 'in', [filter.projectId, ...(subtree ?? [])]);
    else if (filter.domainId) query = query.where('type', 'in', DOMAIN_TYPES).where('target_id', '=', filter.domainId);
    else if (filter.system) query = query.where('type', 'in', SYSTEM_TYPES);
    const rows = await query.execute();
    return rows.map(refOfRow);
  }

  private async listEffective(filter: AssignmentFilter, subtree: string[] | null, knownTree: ProjectTree | null): Promise<AssignmentRef[]> {
    // Domains never inherit, so a domain filter only sees direct domain grants.
    const inherited = filter.domainId ? false : filter.inherited;
    const actorIds = filter.userId ? [filter.userId, ...(await this.users.groupIdsOf(filter.userId))] : null;
    let query = this.core.db.selectFrom('identity_assignments').selectAll();
    if (actorIds) query = query.where('actor_id', 'in', actorIds);
    const rows = await query.execute();

    let tree = knownTree;
    const getTree = async () => (tree ??= await this.projectTree());
    const interest = filter.projectId ? new Set([filter.projectId, ...(subtree ?? [])]) : null;
    let projectDomain: string | null = null;
    let parents = new Set<string>();
    if (filter.projectId && inherited !== false) {
      const t = await getTree();
      projectDomain = t.domainOf(filter.projectId);
      parents = new Set(t.ancestors(filter.projectId));
    }

    const candidates = rows.filter((r) => {
      const isProject = PROJECT_TYPES.includes(r.type);
      const isDomain = DOMAIN_TYPES.includes(r.type);
      if (r.inherited === 0) {
        if (inherited === true) return false;
        if (interest) return isProject && interest.has(r.target_id);
        if (filter.domainId) return isDomain && r.target_id === filter.domainId;
        if (filter.system) return SYSTEM_TYPES.includes(r.type);
        return true;
      }
      if (inherited === false || filter.system) return false;
      if (!filter.projectId) return true;
      if (isDomain) return r.target_id === projectDomain;
      return isProject && (parents.has(r.target_id) || (subtree !== null && interest?.has(r.target_id) === true));
    });

    const membersOf = await this.groupMembers(
      actorIds ? [] : [...new Set(candidates.filter((r) => !isUserRow(r)).map((r) => r.actor_id))],
    );
    const users = (r: AssignmentRow): string[] => (isUserRow(r) ? [r.actor_id] : filter.userId ? [filter.userId] : (membersOf.get(r.actor_id) ?? []));

    const expanded: AssignmentRef[] = [];
    for (const r of candidates) {
      const viaGroup = isUserRow(r) ? {} : { groupId: r.actor_id };
      if (r.inherited === 0) {
        for (const userId of users(r)) {
          const ref = refOfRow(r);
          delete ref.groupId;
          expanded.push({ ...ref, userId, indirect: { ...viaGroup } });
        }
        continue;
      }
      const t = await getTree();
      const origin = PROJECT_TYPES.includes(r.type) ? { projectId: r.target_id } : { domainId: r.target_id };
      let projectIds: string[];
      if (filter.projectId) {
        projectIds = [filter.projectId, ...(subtree ?? [])];
        // A grant inside the listed subtree reaches only the part below it.
        if (subtree && origin.projectId && interest?.has(origin.projectId)) projectIds = t.subtree(origin.projectId);
      } else if (origin.domainId) {
        projectIds = t.inDomain(origin.domainId);
      } else {
        projectIds = t.subtree(r.target_id);
      }
      for (const userId of users(r)) {
        for (const projectId of projectIds) {
          expanded.push({ roleId: r.role_id, userId, projectId, inherited: false, indirect: { ...viaGroup, ...origin } });
        }
      }
    }

    const withImplied = await this.addImpliedRoles(expanded);
    const roles = new Map((await this.roles.rolesByIds([...new Set(withImplied.map((r) => r.roleId))])).map((r) => [r.id, r]));
    return withImplied.filter((ref) => roles.get(ref.roleId)?.domainId === null && (!filter.roleId || ref.roleId === filter.roleId));
  }

  /** Adds one ref per implied role (transitively), remembering the prior role that implied it. */
  private async addImpliedRoles(refs: AssignmentRef[]): Promise<AssignmentRef[]> {
    if (refs.length === 0) return refs;
    const graph = await this.roles.impliedGraph();
    const out: AssignmentRef[] = [];
    for (const ref of refs) {
      out.push(ref);
      const seen = new Set([ref.roleId]);
      const stack = [ref];
      while (stack.length) {
        const current = stack.pop() as AssignmentRef;
        for (const impliedId of graph.get(current.roleId) ?? []) {
          if (seen.has(impliedId)) continue;
          seen.add(impliedId);
          const implied = { ...current, roleId: impliedId, indirect: { ...current.indirect, roleId: current.roleId } };
          out.push(implied);
          stack.push(implied);
        }
      }
    }
    return out;
  }

  private async groupMembers(groupIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (groupIds.length === 0) return out;
    const rows = await this.core.db.selectFrom('identity_group_members').selectAll().where('group_id', 'in', groupIds).execute();
    for (const row of rows) out.set(row.group_id, [...(out.get(row.group_id) ?? []), row.user_id]);
    return out;
  }

  /** Every project (not domain) with its parent, loaded once per listing. */
  private async projectTree(): Promise<ProjectTree> {
    const rows = await this.core.db.selectFrom('identity_projects').select(['id', 'parent_id', 'domain_id']).where('is_domain', '=', 0).execute();
    return new ProjectTree(rows.map((r) => ({ id: r.id, parentId: r.parent_id, domainId: r.domain_id })));
  }

  /** Names for include_names, fetched in one query per kind. */
  async resolveNames(refs: AssignmentRef[]): Promise<NameBook> {
    const ids = (pick: (r: AssignmentRef) => string | undefined) => [...new Set(refs.map(pick).filter((v): v is string => Boolean(v)))];
    const book: NameBook = { users: new Map(), groups: new Map(), projects: new Map(), domains: new Map(), roles: new Map() };
    const userIds = ids((r) => r.userId);
    const groupIds = ids((r) => r.groupId);
    const projectIds = ids((r) => r.projectId);
    const roleIds = ids((r) => r.roleId);
    const db = this.core.db;
    const users = userIds.length ? await db.selectFrom('identity_users').select(['id', 'name', 'domain_id']).where('id', 'in', userIds).execute() : [];
    const groups = groupIds.length ? await db.selectFrom('identity_groups').select(['id', 'name', 'domain_id']).where('id', 'in', groupIds).execute() : [];
    const projects = projectIds.length ? await db.selectFrom('identity_projects').select(['id', 'name', 'domain_id']).where('id', 'in', projectIds).execute() : [];
    const roles = await this.roles.rolesByIds(roleIds);
    const domainIds = [
      ...new Set([
        ...ids((r) => r.domainId),
        ...users.map((u) => u.domain_id),
        ...groups.map((g) => g.domain_id),
        ...projects.map((p) => p.domain_id),
        ...roles.map((r) => r.domainId).filter((d): d is string => d !== null),
      ]),
    ];
    const domains = domainIds.length
      ? await db.selectFrom('identity_projects').select(['id', 'name']).where('domain_id', '=', DOMAIN_ROOT).where('id', 'in', domainIds).execute()
      : [];
    const domainName = new Map(domains.map((d) => [d.id, d.name]));
    for (const d of domains) book.domains.set(d.id, { name: d.name });
    const named = (row: { name: string; domain_id: string }): NamedEntity => ({ name: row.name, domainId: row.domain_id, domainName: domainName.get(row.domain_id) ?? '' });
    for (const u of users) book.users.set(u.id, named(u));
    for (const g of groups) book.groups.set(g.id, named(g));
    for (const p of projects) book.projects.set(p.id, named(p));
    for (const r of roles) book.roles.set(r.id, r.domainId ? { name: r.name, domainId: r.domainId, domainName: domainName.get(r.domainId) ?? '' } : { name: r.name });
    return book;
  }
}

/** Parent/child and domain indexes over the project hierarchy. */
class ProjectTree {
  private readonly byId = new Map<string, ProjectNode>();
  private readonly children = new Map<string, string[]>();

  constructor(nodes: ProjectNode[]) {
    for (const node of nodes) {
      this.byId.set(node.id, node);
      if (node.parentId) this.children.set(node.parentId, [...(this.children.get(node.parentId) ?? []), node.id]);
    }
  }

  /** Every project below `root`, excluding root itself. */
  subtree(root: string): string[] {
    const out: string[] = [];
    const seen = new Set([root]);
    const stack = [...(this.children.get(root) ?? [])];
    while (stack.length) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      stack.push(...(this.children.get(id) ?? []));
    }
    return out;
  }

  /** Parent projects of a project, nearest first (its domain excluded). */
  ancestors(projectId: string): string[] {
    const out: string[] = [];
    const seen = new Set([projectId]);
    let parent = this.byId.get(projectId)?.parentId;
    while (parent && this.byId.has(parent) && !seen.has(parent)) {
      seen.add(parent);
      out.push(parent);
      parent = this.byId.get(parent)?.parentId;
    }
    return out;
  }

  domainOf(projectId: string): string | null {
    return this.byId.get(projectId)?.domainId ?? null;
  }

  inDomain(domainId: string): string[] {
    return [...this.byId.values()].filter((p) => p.domainId === domainId).map((p) => p.id);
  }
}

function assignmentNotFound(spec: GrantSpec): Error {
  return notFound(`Could not find role assignment with role: ${spec.roleId}, user or group: ${spec.actor.id}, project, domain, or system: ${targetId(spec.target)}.`);
}
