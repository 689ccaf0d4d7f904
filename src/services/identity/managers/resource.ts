import type { Transaction } from 'kysely';
import { CloudError, badRequest, conflict, forbidden, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import { DOMAIN_ROOT, parseJson, type IdentityTables, type ProjectRow } from '../store/tables.js';
import type { Domain, Project } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';
import type { RevocationEvent } from './revocations.js';

export function projectFromRow(row: ProjectRow, tags: string[] = []): Project {
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? '',
    enabled: row.enabled === 1,
    domainId: row.is_domain === 1 ? row.id : row.domain_id,
    parentId: row.parent_id,
    isDomain: row.is_domain === 1,
    tags,
    options: parseJson(row.options),
    extra: parseJson(row.extra),
  };
}

export function domainFromProject(project: Project): Domain {
  const { id, name, description, enabled, tags, options, extra } = project;
  return { id, name, description, enabled, tags, options, extra };
}

export interface NewProject {
  id?: string;
  name: string;
  description?: string;
  enabled?: boolean;
  domainId: string;
  parentId?: string | null;
  isDomain?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** A create request as the API hands it over, before Keystone's hierarchy rules are applied. */
export interface ProjectCreateRequest {
  id?: string;
  name: string;
  description?: string | null;
  enabled?: boolean;
  /** null/absent: taken from the parent, else `fallbackDomainId` (Keystone's _normalize_domain_id). */
  domainId?: string | null;
  parentId?: string | null;
  isDomain?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** The fields a PATCH may carry; absent keys are left alone. */
export interface ProjectChanges {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
  id?: string;
  domainId?: string | null;
  parentId?: string | null;
  isDomain?: boolean;
}

export interface ProjectFilters {
  name?: string;
  nameMatches?: { op: 'contains' | 'startswith' | 'endswith'; value: string; caseSensitive: boolean }[];
  domainId?: string;
  parentId?: string;
  enabled?: boolean;
  isDomain?: boolean;
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
}

/** Keystone's max_project_tree_depth default: a domain plus five levels of projects. */
const MAX_PROJECT_TREE_DEPTH = 5;
const PROJECT_ASSIGNMENTS = ['UserProject', 'GroupProject'] as const;
const DOMAIN_ASSIGNMENTS = ['UserDomain', 'GroupDomain'] as const;

type Trx = Transaction<IdentityTables>;
type Revoker = { revoke(event: RevocationEvent): Promise<void> };

/** True when a driver error is a unique/primary key violation (SQLite or PostgreSQL). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

function nameConflict(isDomain: boolean, name: string, id: string): CloudError {
  const details = isDomain
    ? `it is not permitted to have two projects acting as domains with the same name: ${name}`
    : `it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${id}`;
  return conflict(`Conflict occurred attempting to store project - ${details}.`);
}

const immutable = (row: ProjectRow): boolean => parseJson(row.options).immutable === true;

/** Options merge key by key; a null value resets (removes) the option, as Keystone's resource options do. */
function mergeOptions(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out = { ...current };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** Domains and projects (Keystone's resource backend: a domain is a project with is_domain). */
export class ResourceManager {
  /** Set by IdentityService once the revocation manager exists (it is built after this one). */
  revocations: Revoker | null = null;

  constructor(private readonly core: IdentityCore) {}

  async findProjectRow(id: string): Promise<ProjectRow | undefined> {
    return this.core.db.selectFrom('identity_projects').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async tagsOf(projectId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom('identity_project_tags').select('name').where('project_id', '=', projectId).orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async getProject(id: string): Promise<Project> {
    const row = await this.findProjectRow(id);
    if (!row || row.is_domain === 1) throw notFound(`Could not find project: ${id}.`);
    return projectFromRow(row, await this.tagsOf(id));
  }

  /** A project or a domain seen through the projects API (Keystone's get_project doesn't tell them apart). */
  async getAnyProject(id: string): Promise<Project> {
    const row = await this.findProjectRow(id);
    if (!row) throw notFound(`Could not find project: ${id}.`);
    return projectFromRow(row, await this.tagsOf(id));
  }

  async getDomain(id: string): Promise<Domain> {
    const row = await this.findProjectRow(id);
    if (!row || row.is_domain !== 1) throw notFound(`Could not find domain: ${id}.`);
    return domainFromProject(projectFromRow(row, await this.tagsOf(id)));
  }

  async findDomainByName(name: string): Promise<Domain | undefined> {
    const row = await this.core.db
      .selectFrom('identity_projects')
      .selectAll()
      .where('domain_id', '=', DOMAIN_ROOT)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? domainFromProject(projectFromRow(row)) : undefined;
  }

  async findProjectRowByName(name: string, domainId: string): Promise<ProjectRow | undefined> {
    return this.core.db
      .selectFrom('identity_projects')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .where('is_domain', '=', 0)
      .executeTakeFirst();
  }

  async findProjectByName(name: string, domainId: string): Promise<Project | undefined> {
    const row = await this.findProjectRowByName(name, domainId);
    return row ? projectFromRow(row, await this.tagsOf(row.id)) : undefined;
  }

  /** Creates a project or (isDomain) a domain without hierarchy checks; 409 on a duplicate name within the domain. */
  async createProject(input: NewProject): Promise<Project> {
    const id = input.id ?? hexId();
    const isDomain = input.isDomain === true;
    const domainId = isDomain ? DOMAIN_ROOT : input.domainId;
    const dup = await this.core.db
      .selectFrom('identity_projects')
      .select('id')
      .where((eb) => eb.or([eb.and([eb('domain_id', '=', domainId), eb('name', '=', input.name)]), eb('id', '=', id)]))
      .executeTakeFirst();
    if (dup) throw dup.id === id ? conflict(`Conflict occurred attempting to store project - Duplicate ID, ${id}.`) : nameConflict(isDomain, input.name, id);
    const tags = [...new Set(input.tags ?? [])];
    const row: ProjectRow = {
      id,
      name: input.name,
      description: input.description ?? '',
      enabled: input.enabled === false ? 0 : 1,
      domain_id: domainId,
      parent_id: isDomain ? null : (input.parentId ?? input.domainId),
      is_domain: isDomain ? 1 : 0,
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(input.options ?? {}),
      created_at: isoMicro(this.core.clock.now()),
    };
    try {
      await this.core.db.transaction().execute(async (trx) => {
        await trx.insertInto('identity_projects').values(row).execute();
        if (tags.length) await trx.insertInto('identity_project_tags').values(tags.map((name) => ({ project_id: id, name }))).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(isDomain, input.name, id);
      throw err;
    }
    notify(this.core, isDomain ? 'domain' : 'project', 'created', id);
    return projectFromRow(row, [...tags].sort());
  }

  /** POST /v3/projects and /v3/domains: Keystone's create_project with its hierarchy constraints. */
  async create(input: ProjectCreateRequest, fallbackDomainId: string): Promise<Project> {
    const name = input.name.trim();
    const tags = input.tags?.map((t) => t.trim());
    const base = { id: input.id, name, description: input.description ?? undefined, enabled: input.enabled, tags, options: input.options, extra: input.extra };
    if (input.isDomain) {
      // A domain is a root: any parent (or a domain_id, which would become the parent) is refused.
      if (input.parentId || input.domainId) throw badRequest('only root projects are allowed to act as domains.');
      return this.createProject({ ...base, domainId: DOMAIN_ROOT, isDomain: true });
    }
    let parentRow: ProjectRow | undefined;
    if (input.parentId) {
      parentRow = await this.findProjectRow(input.parentId);
      if (!parentRow) throw badRequest(`Could not find project: ${input.parentId}.`);
    }
    const domainId = input.domainId || (parentRow ? (parentRow.is_domain === 1 ? parentRow.id : parentRow.domain_id) : fallbackDomainId);
    const domainRow = await this.findProjectRow(domainId);
    if (!domainRow || domainRow.is_domain !== 1) throw badRequest(`Could not find domain: ${domainId}.`);
    parentRow ??= domainRow;
    if (parentRow.is_domain === 1 && parentRow.id !== domainId) {
      throw badRequest(`Cannot create project, the parent (${parentRow.id}) is acting as a domain, but this project's domain id (${domainId}) does not match the parent's id.`);
    }
    if (parentRow.is_domain !== 1 && parentRow.domain_id !== domainId) {
      throw badRequest(`Cannot create project, since it specifies its domain_id ${domainId}, but specifies a parent in a different domain (${parentRow.domain_id}).`);
    }
    const branch = [parentRow, ...(await this.ancestorRows(parentRow.id))];
    const disabled = branch.find((r) => r.enabled !== 1);
    if (disabled) throw badRequest(`cannot create a project in a branch containing a disabled project: ${disabled.id}`);
    if (branch.length + 1 > MAX_PROJECT_TREE_DEPTH + 1) throw forbidden(`Max hierarchy depth reached for ${parentRow.id} branch.`);
    return this.createProject({ ...base, domainId, parentId: parentRow.id });
  }

  /** Rows of the parents of a project, nearest first, up to and including its domain. */
  private async ancestorRows(projectId: string): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let current = await this.findProjectRow(projectId);
    const seen = new Set<string>([projectId]);
    while (current?.parent_id && !seen.has(current.parent_id)) {
      seen.add(current.parent_id);
      const parent = await this.findProjectRow(current.parent_id);
      if (!parent) break;
      out.push(parent);
      current = parent;
    }
    return out;
  }

  /** The chain of parents of a project, nearest first, stopping at (and including) its domain. */
  async ancestors(projectId: string): Promise<Project[]> {
    return (await this.ancestorRows(projectId)).map((row) => projectFromRow(row));
  }

  /** Every project below one, breadth first (Keystone's list_projects_in_subtree). */
  async subtree(projectId: string): Promise<Project[]> {
    const rows = await this.core.db.selectFrom('identity_projects').selectAll().where('is_domain', '=', 0).execute();
    const children = new Map<string, ProjectRow[]>();
    for (const row of rows) if (row.parent_id) children.set(row.parent_id, [...(children.get(row.parent_id) ?? []), row]);
    const out: ProjectRow[] = [];
    const seen = new Set<string>([projectId]);
    let level = children.get(projectId) ?? [];
    while (level.length) {
      const next: ProjectRow[] = [];
      for (const row of level) {
        if (seen.has(row.id)) continue;
        seen.add(row.id);
        out.push(row);
        next.push(...(children.get(row.id) ?? []));
      }
      level = next;
    }
    const tags = await this.tagsByProject(out.map((r) => r.id));
    return out.map((row) => projectFromRow(row, tags.get(row.id) ?? []));
  }

  /** {parent: {grandparent: ... {domain: null}}} or null for a root (parents_as_ids). */
  async parentsAsIds(projectId: string): Promise<Record<string, unknown> | null> {
    const chain = await this.ancestorRows(projectId);
    let nested: Record<string, unknown> | null = null;
    for (const row of [...chain].reverse()) nested = { [row.id]: nested };
    return nested;
  }

  /** {child: {grandchild: null}, ...} or null for a leaf (subtree_as_ids). */
  async subtreeAsIds(projectId: string): Promise<Record<string, unknown> | null> {
    const below = await this.subtree(projectId);
    const byParent = new Map<string, string[]>();
    for (const p of below) if (p.parentId) byParent.set(p.parentId, [...(byParent.get(p.parentId) ?? []), p.id]);
    const walk = (id: string): Record<string, unknown> | null => {
      const kids = byParent.get(id);
      if (!kids?.length) return null;
      return Object.fromEntries(kids.map((kid) => [kid, walk(kid)]));
    };
    return walk(projectId);
  }

  private async tagsByProject(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!ids.length) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.core.db.selectFrom('identity_project_tags').selectAll().where('project_id', 'in', ids.slice(i, i + 500)).orderBy('name').execute();
      for (const r of rows) out.set(r.project_id, [...(out.get(r.project_id) ?? []), r.name]);
    }
    return out;
  }

  /** GET /v3/projects (and, with isDomain, the rows behind GET /v3/domains). */
  async listProjects(filters: ProjectFilters): Promise<Project[]> {
    let query = this.core.db.selectFrom('identity_projects').selectAll();
    if (filters.isDomain !== undefined) query = query.where('is_domain', '=', filters.isDomain ? 1 : 0);
    if (filters.name !== undefined) query = query.where('name', '=', filters.name);
    if (filters.domainId !== undefined) query = query.where('domain_id', '=', filters.domainId);
    if (filters.parentId !== undefined) query = query.where('parent_id', '=', filters.parentId);
    if (filters.enabled !== undefined) query = query.where('enabled', '=', filters.enabled ? 1 : 0);
    const rows = await query.orderBy('name').orderBy('id').execute();
    const tags = await this.tagsByProject(rows.map((r) => r.id));
    const hasAll = (have: string[], want: string[]) => want.every((t) => have.includes(t));
    const hasAny = (have: string[], want: string[]) => want.some((t) => have.includes(t));
    return rows
      .map((row) => projectFromRow(row, tags.get(row.id) ?? []))
      .filter((p) => {
        if (filters.tags && !hasAll(p.tags, filters.tags)) return false;
        if (filters.tagsAny && !hasAny(p.tags, filters.tagsAny)) return false;
        if (filters.notTags && hasAll(p.tags, filters.notTags)) return false;
        if (filters.notTagsAny && hasAny(p.tags, filters.notTagsAny)) return false;
        for (const m of filters.nameMatches ?? []) {
          const name = m.caseSensitive ? p.name : p.name.toLowerCase();
          const value = m.caseSensitive ? m.value : m.value.toLowerCase();
          const ok = m.op === 'contains' ? name.includes(value) : m.op === 'startswith' ? name.startsWith(value) : name.endsWith(value);
          if (!ok) return false;
        }
        return true;
      });
  }

  /** PATCH /v3/projects/{id} and /v3/domains/{id}: Keystone's _update_project rules. */
  async update(id: string, changes: ProjectChanges, kind: 'project' | 'domain'): Promise<Project> {
    const row = await this.findProjectRow(id);
    if (!row || (kind === 'domain' && row.is_domain !== 1)) throw notFound(`Could not find ${kind}: ${id}.`);
    const isDomain = row.is_domain === 1;
    if (kind === 'project' && changes.id !== undefined && changes.id !== id) throw badRequest('Cannot change ID');
    const currentDomainId = isDomain ? null : row.domain_id;
    if (changes.domainId !== undefined && changes.domainId !== currentDomainId) throw badRequest('Cannot change Domain ID');
    if (immutable(row)) {
      const onlyUnsets = Object.keys(changes).length === 1 && changes.options && Object.keys(changes.options).includes('immutable') && (changes.options.immutable === false || changes.options.immutable === null);
      if (!onlyUnsets) throw forbidden(`Unable to update immutable ${isDomain ? 'domain' : 'project'} resource: \`${id}. Set resource option "immutable" to false first.`);
    }
    if (changes.parentId !== undefined && changes.parentId !== row.parent_id) throw forbidden('Update of `parent_id` is not allowed.');
    if (changes.isDomain !== undefined && changes.isDomain !== isDomain) throw badRequest('Update of `is_domain` is not allowed.');
    const wasEnabled = row.enabled === 1;
    const enabled = changes.enabled ?? wasEnabled;
    if (!wasEnabled && enabled) {
      const disabledParent = (await this.ancestorRows(id)).find((r) => r.enabled !== 1);
      if (disabledParent) throw forbidden(`Cannot enable project ${id} since it has disabled parents`);
    }
    if (wasEnabled && !enabled && !isDomain && (await this.subtree(id)).some((p) => p.enabled)) {
      throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
    }
    const name = changes.name !== undefined ? changes.name.trim() : row.name;
    const updated: ProjectRow = {
      ...row,
      name,
      description: changes.description !== undefined ? changes.description : row.description,
      enabled: enabled ? 1 : 0,
      extra: JSON.stringify({ ...parseJson(row.extra), ...(changes.extra ?? {}) }),
      options: JSON.stringify(mergeOptions(parseJson(row.options), changes.options ?? {})),
    };
    const tags = changes.tags ? [...new Set(changes.tags.map((t) => t.trim()))] : undefined;
    if (name !== row.name) {
      const dup = await this.core.db.selectFrom('identity_projects').select('id').where('domain_id', '=', row.domain_id).where('name', '=', name).where('id', '!=', id).executeTakeFirst();
      if (dup) throw nameConflict(isDomain, name, id);
    }
    try {
      await this.core.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('identity_projects')
          .set({ name: updated.name, description: updated.description, enabled: updated.enabled, extra: updated.extra, options: updated.options })
          .where('id', '=', id)
          .execute();
        if (tags) await this.replaceTags(trx, id, tags);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw nameConflict(isDomain, name, id);
      throw err;
    }
    notify(this.core, 'project', 'updated', id);
    if (isDomain) notify(this.core, 'domain', 'updated', id);
    if (wasEnabled && !enabled) await this.revoke(isDomain ? { domain_id: id } : { project_id: id });
    else this.core.onRevocation();
    return projectFromRow(updated, tags ? [...tags].sort() : await this.tagsOf(id));
  }

  private async replaceTags(trx: Trx, projectId: string, tags: string[]): Promise<void> {
    await trx.deleteFrom('identity_project_tags').where('project_id', '=', projectId).execute();
    if (tags.length) await trx.insertInto('identity_project_tags').values(tags.map((name) => ({ project_id: projectId, name }))).execute();
  }

  private async revoke(event: RevocationEvent): Promise<void> {
    if (this.revocations) await this.revocations.revoke(event);
    else this.core.onRevocation();
  }

  // --- tags -------------------------------------------------------------------------------

  private async mutableRow(projectId: string, verb: 'create' | 'update' | 'delete'): Promise<ProjectRow> {
    const row = await this.findProjectRow(projectId);
    if (!row) throw notFound(`Could not find project: ${projectId}.`);
    if (immutable(row)) {
      throw forbidden(`Cannot ${verb} project tags for ${projectId}, project is immutable. Set "immutable" option to false before creating project tags.`);
    }
    return row;
  }

  /** PUT /v3/projects/{id}/tags: replaces every tag; returns them in the order given. */
  async setTags(projectId: string, tags: string[]): Promise<string[]> {
    await this.mutableRow(projectId, 'update');
    const list = [...new Set(tags.map((t) => t.trim()))];
    await this.core.db.transaction().execute((trx) => this.replaceTags(trx, projectId, list));
    notify(this.core, 'project', 'updated', projectId);
    return list;
  }

  /** PUT /v3/projects/{id}/tags/{tag}: the caller has validated the tag and the 80-tag limit. */
  async addTag(projectId: string, tag: string): Promise<string> {
    await this.mutableRow(projectId, 'create');
    const name = tag.trim();
    await this.core.db.insertInto('identity_project_tags').values({ project_id: projectId, name }).onConflict((oc) => oc.doNothing()).execute();
    notify(this.core, 'project_tag', 'created', name);
    return name;
  }

  async hasTag(projectId: string, tag: string): Promise<void> {
    if (!(await this.findProjectRow(projectId))) throw notFound(`Could not find project: ${projectId}.`);
    const row = await this.core.db.selectFrom('identity_project_tags').select('name').where('project_id', '=', projectId).where('name', '=', tag).executeTakeFirst();
    if (!row) throw notFound(`Could not find project tag: ${tag}.`);
  }

  async removeTag(projectId: string, tag: string): Promise<void> {
    await this.mutableRow(projectId, 'delete');
    const result = await this.core.db.deleteFrom('identity_project_tags').where('project_id', '=', projectId).where('name', '=', tag).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(`Could not find project tag: ${tag}.`);
    notify(this.core, 'project_tag', 'deleted', tag);
  }

  // --- deletion ---------------------------------------------------------------------------

  /** DELETE /v3/projects/{id}: leaves only; a project acting as a domain is deleted as a domain. */
  async deleteProject(id: string): Promise<void> {
    const row = await this.findProjectRow(id);
    if (!row) throw notFound(`Could not find project: ${id}.`);
    if (row.is_domain === 1) return this.deleteDomain(id);
    if (immutable(row)) throw forbidden(`Unable to delete immutable project resource: \`${id}. Set resource option "immutable" to false first.`);
    const child = await this.core.db.selectFrom('identity_projects').select('id').where('parent_id', '=', id).executeTakeFirst();
    if (child) throw forbidden(`Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
    await this.core.db.transaction().execute((trx) => this.purgeProjects(trx, [id]));
    notify(this.core, 'project', 'deleted', id);
    await this.revoke({ project_id: id });
  }

  /** DELETE /v3/domains/{id}: only disabled domains; everything the domain owns goes with it. */
  async deleteDomain(id: string): Promise<void> {
    const row = await this.findProjectRow(id);
    if (!row || row.is_domain !== 1) throw notFound(`Could not find domain: ${id}.`);
    if (immutable(row)) throw forbidden(`Unable to delete immutable domain resource: \`${id}. Set resource option "immutable" to false first.`);
    if (row.enabled === 1) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
    const projects = await this.core.db.selectFrom('identity_projects').selectAll().where('domain_id', '=', id).where('is_domain', '=', 0).execute();
    const locked = projects.find(immutable);
    if (locked) throw forbidden(`Unable to delete immutable project resource: \`${locked.id}. Set resource option "immutable" to false first.`);
    const projectIds = projects.map((p) => p.id);
    await this.core.db.transaction().execute(async (trx) => {
      await this.purgeDomainContents(trx, id);
      await this.purgeProjects(trx, projectIds);
      await trx.deleteFrom('identity_assignments').where('target_id', '=', id).where('type', 'in', [...DOMAIN_ASSIGNMENTS]).execute();
      await trx.deleteFrom('identity_limits').where('domain_id', '=', id).execute();
      await trx.deleteFrom('identity_domain_configs').where('domain_id', '=', id).execute();
      await trx.deleteFrom('identity_projects').where('id', '=', id).execute();
    });
    for (const projectId of projectIds) notify(this.core, 'project', 'deleted', projectId);
    notify(this.core, 'domain', 'deleted', id);
    await this.revoke({ domain_id: id });
  }

  /** Deletes projects (children before parents) and what hangs off them: grants, credentials, trusts, limits. */
  private async purgeProjects(trx: Trx, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const now = isoMicro(this.core.clock.now());
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await trx.deleteFrom('identity_assignments').where('target_id', 'in', chunk).where('type', 'in', [...PROJECT_ASSIGNMENTS]).execute();
      await trx.deleteFrom('identity_credentials').where('project_id', 'in', chunk).execute();
      await trx.updateTable('identity_trusts').set({ deleted_at: now }).where('project_id', 'in', chunk).where('deleted_at', 'is', null).execute();
      await trx.deleteFrom('identity_limits').where('project_id', 'in', chunk).execute();
    }
    // parent_id references are plain columns, so order doesn't matter to the database; one statement per chunk.
    for (let i = 0; i < ids.length; i += 500) await trx.deleteFrom('identity_projects').where('id', 'in', ids.slice(i, i + 500)).execute();
  }

  /** Users, groups and domain-specific roles of a domain, with their grants and delegations (Keystone's domain-deleted callbacks). */
  private async purgeDomainContents(trx: Trx, domainId: string): Promise<void> {
    const users = (await trx.selectFrom('identity_users').select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
    const groups = (await trx.selectFrom('identity_groups').select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
    const roles = (await trx.selectFrom('identity_roles').select('id').where('domain_id', '=', domainId).execute()).map((r) => r.id);
    const now = isoMicro(this.core.clock.now());
    for (let i = 0; i < users.length; i += 500) {
      const chunk = users.slice(i, i + 500);
      await trx.deleteFrom('identity_assignments').where('actor_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_credentials').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_app_creds').where('user_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_access_rules').where('user_id', 'in', chunk).execute();
      await trx
        .updateTable('identity_trusts')
        .set({ deleted_at: now })
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('trustor_user_id', 'in', chunk), eb('trustee_user_id', 'in', chunk)]))
        .execute();
      await trx.deleteFrom('identity_users').where('id', 'in', chunk).execute();
    }
    for (let i = 0; i < groups.length; i += 500) {
      const chunk = groups.slice(i, i + 500);
      await trx.deleteFrom('identity_assignments').where('actor_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_groups').where('id', 'in', chunk).execute();
    }
    for (let i = 0; i < roles.length; i += 500) {
      const chunk = roles.slice(i, i + 500);
      await trx.deleteFrom('identity_assignments').where('role_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_app_cred_roles').where('role_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_trust_roles').where('role_id', 'in', chunk).execute();
      await trx.deleteFrom('identity_roles').where('id', 'in', chunk).execute();
    }
  }
}
