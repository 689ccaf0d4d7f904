import { conflict, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import { DOMAIN_ROOT, parseJson, type ProjectRow } from '../store/tables.js';
import type { Domain, Project } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';

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

/** Domains and projects (Keystone's resource backend: a domain is a project with is_domain). */
export class ResourceManager {
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

  async findProjectByName(name: string, domainId: string): Promise<Project | undefined> {
    const row = await this.core.db
      .selectFrom('identity_projects')
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .where('is_domain', '=', 0)
      .executeTakeFirst();
    return row ? projectFromRow(row, await this.tagsOf(row.id)) : undefined;
  }

  /** Creates a project or (isDomain) a domain; 409 on a duplicate name within the domain. */
  async createProject(input: NewProject): Promise<Project> {
    const id = input.id ?? hexId();
    const isDomain = input.isDomain === true;
    const domainId = isDomain ? DOMAIN_ROOT : input.domainId;
    const dup = await this.core.db
      .selectFrom('identity_projects')
      .select('id')
      .where('domain_id', '=', domainId)
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (dup) {
      throw conflict(isDomain ? `Conflict occurred attempting to store domain - Duplicate entry found with name ${input.name}.` : `Conflict occurred attempting to store project - Duplicate entry found with name ${input.name} at domain ID ${input.domainId}.`);
    }
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
    await this.core.db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_projects').values(row).execute();
      const tags = [...new Set(input.tags ?? [])];
      if (tags.length) await trx.insertInto('identity_project_tags').values(tags.map((name) => ({ project_id: id, name }))).execute();
    });
    notify(this.core, isDomain ? 'domain' : 'project', 'created', id);
    return projectFromRow(row, [...new Set(input.tags ?? [])].sort());
  }

  /** The chain of parents of a project, nearest first, stopping at (and including) its domain. */
  async ancestors(projectId: string): Promise<Project[]> {
    const out: Project[] = [];
    let current = await this.findProjectRow(projectId);
    const seen = new Set<string>();
    while (current?.parent_id && !seen.has(current.parent_id)) {
      seen.add(current.parent_id);
      const parent = await this.findProjectRow(current.parent_id);
      if (!parent) break;
      out.push(projectFromRow(parent));
      current = parent;
    }
    return out;
  }
}
