import { badRequest, CloudError, conflict, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import type { LimitRow, RegisteredLimitRow } from '../store/tables.js';
import { notify, type IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

export interface RegisteredLimit {
  id: string;
  serviceId: string;
  regionId: string | null;
  resourceName: string;
  defaultLimit: number;
  description: string | null;
}
export interface Limit {
  id: string;
  projectId: string | null;
  domainId: string | null;
  serviceId: string;
  regionId: string | null;
  resourceName: string;
  resourceLimit: number;
  description: string | null;
}

export interface RegisteredLimitInput {
  serviceId: string;
  regionId?: string | null;
  resourceName: string;
  defaultLimit: number;
  description?: string | null;
}
export interface LimitInput {
  projectId?: string;
  domainId?: string;
  serviceId: string;
  regionId?: string | null;
  resourceName: string;
  resourceLimit: number;
  description?: string | null;
}
export interface LimitFilters {
  serviceId?: string;
  regionId?: string;
  resourceName?: string;
  projectId?: string;
  domainId?: string;
}

const registeredFromRow = (r: RegisteredLimitRow): RegisteredLimit => ({
  id: r.id,
  serviceId: r.service_id,
  regionId: r.region_id,
  resourceName: r.resource_name,
  defaultLimit: r.default_limit,
  description: r.description,
});
const limitFromRow = (r: LimitRow): Limit => ({
  id: r.id,
  projectId: r.project_id,
  domainId: r.domain_id,
  serviceId: r.service_id,
  regionId: r.region_id,
  resourceName: r.resource_name,
  resourceLimit: r.resource_limit,
  description: r.description,
});

const invalidAttr = (attribute: string, target: string) =>
  badRequest(`Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/** Unified limits, flat enforcement model: registered (default) limits and project/domain limits. */
export class LimitManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    // Keystone drops a project's limits with the project.
    core.events.subscribe('identity.project.deleted', async (n) => {
      const id = n.payload.resource_info;
      if (typeof id === 'string' && id) await this.core.db.deleteFrom('identity_limits').where('project_id', '=', id).execute();
    });
  }

  model(): { name: string; description: string } {
    return { name: 'flat', description: 'Limit enforcement and validation does not take project hierarchy into consideration.' };
  }

  /** Keystone's _assert_resource_exist: references must exist (400 naming the attribute). */
  private async assertRefs(ref: { serviceId?: string; regionId?: string | null; projectId?: string; domainId?: string }, target: string): Promise<void> {
    if (ref.serviceId !== undefined && !(await this.svc.catalog.findService(ref.serviceId))) throw invalidAttr('service_id', target);
    if (ref.regionId !== undefined && ref.regionId !== null && !(await this.svc.catalog.findRegion(ref.regionId))) throw invalidAttr('region_id', target);
    if (ref.projectId !== undefined) {
      const row = await this.svc.resource.findProjectRow(ref.projectId);
      if (!row) throw invalidAttr('project_id', target);
    }
    if (ref.domainId !== undefined) {
      const row = await this.svc.resource.findProjectRow(ref.domainId);
      if (!row || row.is_domain !== 1) throw invalidAttr('domain_id', target);
    }
  }

  // ---- registered limits ----

  private async findRegisteredFor(serviceId: string, regionId: string | null, resourceName: string, exceptId?: string): Promise<RegisteredLimitRow | undefined> {
    let query = this.core.db.selectFrom('identity_registered_limits').selectAll().where('service_id', '=', serviceId).where('resource_name', '=', resourceName);
    query = regionId === null ? query.where('region_id', 'is', null) : query.where('region_id', '=', regionId);
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    return query.executeTakeFirst();
  }

  /** All or nothing: one invalid or duplicate entry rejects the whole list. */
  async createRegisteredLimits(inputs: RegisteredLimitInput[]): Promise<RegisteredLimit[]> {
    const rows: RegisteredLimitRow[] = [];
    const seen = new Set<string>();
    for (const input of inputs) {
      await this.assertRefs({ serviceId: input.serviceId, regionId: input.regionId }, 'registered_limit');
      const key = JSON.stringify([input.serviceId, input.regionId ?? null, input.resourceName]);
      if (seen.has(key) || (await this.findRegisteredFor(input.serviceId, input.regionId ?? null, input.resourceName))) {
        throw conflict('Conflict occurred attempting to store registered_limit - Duplicate entry.');
      }
      seen.add(key);
      rows.push({
        id: hexId(),
        service_id: input.serviceId,
        region_id: input.regionId ?? null,
        resource_name: input.resourceName,
        default_limit: input.defaultLimit,
        description: input.description ?? null,
      });
    }
    await this.core.db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_registered_limits').values(rows).execute();
    });
    for (const r of rows) notify(this.core, 'registered_limit', 'created', r.id);
    return rows.map(registeredFromRow);
  }

  async getRegisteredLimit(id: string): Promise<RegisteredLimit> {
    const row = await this.core.db.selectFrom('identity_registered_limits').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find registered limit for ${id}.`);
    return registeredFromRow(row);
  }

  async listRegisteredLimits(filters: LimitFilters = {}): Promise<RegisteredLimit[]> {
    let query = this.core.db.selectFrom('identity_registered_limits').selectAll();
    if (filters.serviceId !== undefined) query = query.where('service_id', '=', filters.serviceId);
    if (filters.regionId !== undefined) query = query.where('region_id', '=', filters.regionId);
    if (filters.resourceName !== undefined) query = query.where('resource_name', '=', filters.resourceName);
    return (await query.orderBy('id').execute()).map(registeredFromRow);
  }

  private async assertUnreferenced(id: string): Promise<void> {
    const current = await this.getRegisteredLimit(id);
    let query = this.core.db
      .selectFrom('identity_limits')
      .select('id')
      .where('service_id', '=', current.serviceId)
      .where('resource_name', '=', current.resourceName);
    query = current.regionId === null ? query.where('region_id', 'is', null) : query.where('region_id', '=', current.regionId);
    if (await query.executeTakeFirst()) {
      throw new CloudError('forbidden', `Unable to update or delete registered limit ${id} because there are project limits associated with it.`);
    }
  }

  async updateRegisteredLimit(id: string, patch: Partial<RegisteredLimitInput>): Promise<RegisteredLimit> {
    const current = await this.getRegisteredLimit(id);
    await this.assertRefs({ serviceId: patch.serviceId, regionId: patch.regionId }, 'registered_limit');
    await this.assertUnreferenced(id);
    const next: RegisteredLimit = {
      id,
      serviceId: patch.serviceId ?? current.serviceId,
      regionId: patch.regionId === undefined ? current.regionId : patch.regionId,
      resourceName: patch.resourceName ?? current.resourceName,
      defaultLimit: patch.defaultLimit ?? current.defaultLimit,
      description: patch.description === undefined ? current.description : patch.description,
    };
    if (await this.findRegisteredFor(next.serviceId, next.regionId, next.resourceName, id)) {
      throw conflict('Conflict occurred attempting to store registered_limit - Duplicate entry.');
    }
    await this.core.db
      .updateTable('identity_registered_limits')
      .set({ service_id: next.serviceId, region_id: next.regionId, resource_name: next.resourceName, default_limit: next.defaultLimit, description: next.description })
      .where('id', '=', id)
      .execute();
    notify(this.core, 'registered_limit', 'updated', id);
    return next;
  }

  async deleteRegisteredLimit(id: string): Promise<void> {
    await this.assertUnreferenced(id);
    await this.core.db.deleteFrom('identity_registered_limits').where('id', '=', id).execute();
    notify(this.core, 'registered_limit', 'deleted', id);
  }

  // ---- project and domain limits ----

  async createLimits(inputs: LimitInput[]): Promise<Limit[]> {
    const rows: LimitRow[] = [];
    const seen = new Set<string>();
    for (const input of inputs) {
      let projectId = input.projectId ?? null;
      let domainId = input.domainId ?? null;
      await this.assertRefs({ serviceId: input.serviceId, regionId: input.regionId, projectId: projectId ?? undefined, domainId: domainId ?? undefined }, 'limit');
      if (projectId !== null) {
        // A "project" that is a domain is taken as a domain limit, as Keystone does.
        const row = await this.svc.resource.findProjectRow(projectId);
        if (row?.is_domain === 1) {
          domainId = projectId;
          projectId = null;
        }
      }
      const regionId = input.regionId ?? null;
      if (!(await this.findRegisteredFor(input.serviceId, regionId, input.resourceName))) {
        throw new CloudError('forbidden', 'Unable to create a limit that has no corresponding registered limit.');
      }
      const key = JSON.stringify([input.serviceId, regionId, input.resourceName, projectId, domainId]);
      let dup = this.core.db
        .selectFrom('identity_limits')
        .select('id')
        .where('service_id', '=', input.serviceId)
        .where('resource_name', '=', input.resourceName);
      dup = regionId === null ? dup.where('region_id', 'is', null) : dup.where('region_id', '=', regionId);
      dup = projectId !== null ? dup.where('project_id', '=', projectId) : dup.where('domain_id', '=', domainId ?? '').where('project_id', 'is', null);
      if (seen.has(key) || (await dup.executeTakeFirst())) throw conflict('Conflict occurred attempting to store limit - Duplicate entry.');
      seen.add(key);
      rows.push({
        id: hexId(),
        project_id: projectId,
        domain_id: domainId,
        service_id: input.serviceId,
        region_id: regionId,
        resource_name: input.resourceName,
        resource_limit: input.resourceLimit,
        description: input.description ?? null,
      });
    }
    await this.core.db.transaction().execute(async (trx) => {
      await trx.insertInto('identity_limits').values(rows).execute();
    });
    for (const r of rows) notify(this.core, 'limit', 'created', r.id);
    return rows.map(limitFromRow);
  }

  async findLimit(id: string): Promise<Limit | undefined> {
    const row = await this.core.db.selectFrom('identity_limits').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? limitFromRow(row) : undefined;
  }

  async getLimit(id: string): Promise<Limit> {
    const limit = await this.findLimit(id);
    if (!limit) throw notFound(`Could not find limit for ${id}.`);
    return limit;
  }

  async listLimits(filters: LimitFilters = {}): Promise<Limit[]> {
    let query = this.core.db.selectFrom('identity_limits').selectAll();
    if (filters.serviceId !== undefined) query = query.where('service_id', '=', filters.serviceId);
    if (filters.regionId !== undefined) query = query.where('region_id', '=', filters.regionId);
    if (filters.resourceName !== undefined) query = query.where('resource_name', '=', filters.resourceName);
    if (filters.projectId !== undefined) query = query.where('project_id', '=', filters.projectId);
    if (filters.domainId !== undefined) query = query.where('domain_id', '=', filters.domainId);
    return (await query.orderBy('id').execute()).map(limitFromRow);
  }

  /**
   * GET /v3/limits as Keystone scopes it: a system token sees every limit, a domain
   * token the domain's limit and its projects' limits, a project token its project's.
   */
  async listLimitsForScope(filters: LimitFilters, scope: { system?: boolean; domainId?: string; projectId?: string }): Promise<Limit[]> {
    if (scope.system) return this.listLimits(filters);
    if (scope.domainId) {
      const domainId = scope.domainId;
      const projects = await this.core.db.selectFrom('identity_projects').select('id').where('domain_id', '=', domainId).where('is_domain', '=', 0).execute();
      const ids = new Set(projects.map((p) => p.id));
      return (await this.listLimits(filters)).filter((l) => (l.projectId ? ids.has(l.projectId) : l.domainId === domainId));
    }
    if (scope.projectId) {
      if (filters.projectId !== undefined && filters.projectId !== scope.projectId) return [];
      return this.listLimits({ ...filters, projectId: scope.projectId });
    }
    return [];
  }

  async updateLimit(id: string, patch: { resourceLimit?: number; description?: string | null }): Promise<Limit> {
    const current = await this.getLimit(id);
    const next: Limit = {
      ...current,
      resourceLimit: patch.resourceLimit ?? current.resourceLimit,
      description: patch.description === undefined ? current.description : patch.description,
    };
    await this.core.db.updateTable('identity_limits').set({ resource_limit: next.resourceLimit, description: next.description }).where('id', '=', id).execute();
    notify(this.core, 'limit', 'updated', id);
    return next;
  }

  async deleteLimit(id: string): Promise<void> {
    await this.getLimit(id);
    await this.core.db.deleteFrom('identity_limits').where('id', '=', id).execute();
    notify(this.core, 'limit', 'deleted', id);
  }
}
