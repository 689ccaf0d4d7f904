import { performance } from 'node:perf_hooks';
import { badRequest, CloudError, conflict, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { parseJson, type EndpointRow, type RegionRow, type ServiceRow } from '../store/tables.js';
import type { CatalogService } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';

export interface Region {
  id: string;
  description: string;
  parentRegionId: string | null;
  extra: Record<string, unknown>;
}
/** A catalog service; `name` and `description` live in extra, as in Keystone. */
export interface Service {
  id: string;
  type: string;
  enabled: boolean;
  extra: Record<string, unknown>;
}
export interface Endpoint {
  id: string;
  serviceId: string;
  regionId: string | null;
  interface: string;
  url: string;
  enabled: boolean;
  extra: Record<string, unknown>;
}

export const ENDPOINT_INTERFACES = ['admin', 'internal', 'public'] as const;

export interface RegionInput {
  id?: string;
  description?: string | null;
  parentRegionId?: string | null;
  extra?: Record<string, unknown>;
}
export interface ServiceInput {
  type?: string;
  enabled?: boolean;
  extra?: Record<string, unknown>;
}
export interface EndpointInput {
  serviceId?: string;
  regionId?: string | null;
  interface?: string;
  url?: string;
  enabled?: boolean;
  extra?: Record<string, unknown>;
}

/** Endpoint-group filters: an endpoint matches when every given attribute equals. */
export interface EndpointFilters {
  service_id?: string;
  region_id?: string;
  interface?: string;
}

/** Keystone's whitelist of $(name)s substitutions allowed in endpoint URLs. */
const URL_SUBSTITUTIONS = new Set(['tenant_id', 'project_id', 'user_id', 'public_bind_host', 'admin_bind_host', 'compute_host', 'admin_port', 'public_port', 'public_endpoint']);

/**
 * Other API processes (PostgreSQL deployments) change the catalog without telling us;
 * a short lifetime bounds how stale a process's copy can get. Local writes drop it at once.
 */
const SNAPSHOT_TTL_MS = 5_000;

interface Snapshot {
  loadedAt: number;
  services: ServiceRow[];
  endpoints: EndpointRow[];
  /** project id -> endpoint ids associated directly (OS-EP-FILTER). */
  projectEndpoints: Map<string, Set<string>>;
  /** project id -> filters of the endpoint groups associated with it. */
  projectGroups: Map<string, EndpointFilters[]>;
}

export function regionFromRow(row: RegionRow): Region {
  return { id: row.id, description: row.description, parentRegionId: row.parent_region_id, extra: parseJson(row.extra) };
}
export function serviceFromRow(row: ServiceRow): Service {
  return { id: row.id, type: row.type, enabled: row.enabled === 1, extra: parseJson(row.extra) };
}
export function endpointFromRow(row: EndpointRow): Endpoint {
  return { id: row.id, serviceId: row.service_id, regionId: row.region_id, interface: row.interface, url: row.url, enabled: row.enabled === 1, extra: parseJson(row.extra) };
}

export function endpointMatches(endpoint: Pick<EndpointRow, 'service_id' | 'region_id' | 'interface'>, filters: EndpointFilters): boolean {
  if (filters.service_id !== undefined && endpoint.service_id !== filters.service_id) return false;
  if (filters.region_id !== undefined && endpoint.region_id !== filters.region_id) return false;
  if (filters.interface !== undefined && endpoint.interface !== filters.interface) return false;
  return true;
}

/** Throws Keystone's URLValidationError for substitutions outside the whitelist. */
export function checkEndpointUrl(url: string): void {
  for (const match of url.matchAll(/\$\(([^)]*)\)(.?)/g)) {
    if (match[2] !== 's' || !URL_SUBSTITUTIONS.has(match[1] ?? '')) {
      throw badRequest(`Cannot create an endpoint with an invalid URL: ${url}.`);
    }
  }
}

/** Regions, services and endpoints, OS-EP-FILTER project associations, and the catalog a token carries. */
export class CatalogManager {
  private snapshot: Snapshot | null = null;
  private loading: Promise<Snapshot> | null = null;
  private generation = 0;

  constructor(private readonly core: IdentityCore) {
    // Keystone drops a deleted project's OS-EP-FILTER associations.
    core.events.subscribe('identity.project.deleted', async (n) => {
      const id = n.payload.resource_info;
      if (typeof id !== 'string' || !id) return;
      await this.core.db.deleteFrom('identity_project_endpoints').where('project_id', '=', id).execute();
      await this.core.db.deleteFrom('identity_project_endpoint_groups').where('project_id', '=', id).execute();
      this.invalidate();
    });
  }

  /** Drops the cached catalog; every write that can change a token's catalog calls this. */
  invalidate(): void {
    this.generation++;
    this.snapshot = null;
    this.loading = null;
  }

  // ---- regions ----

  async ensureRegion(id: string, description = ''): Promise<void> {
    await this.core.db
      .insertInto('identity_regions')
      .values({ id, description, parent_region_id: null, extra: '{}' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    this.invalidate();
  }

  async findRegion(id: string): Promise<Region | undefined> {
    const row = await this.core.db.selectFrom('identity_regions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? regionFromRow(row) : undefined;
  }

  async getRegion(id: string): Promise<Region> {
    const region = await this.findRegion(id);
    if (!region) throw notFound(`Could not find region: ${id}.`);
    return region;
  }

  async listRegions(filters: { parentRegionId?: string } = {}): Promise<Region[]> {
    let query = this.core.db.selectFrom('identity_regions').selectAll();
    if (filters.parentRegionId !== undefined) query = query.where('parent_region_id', '=', filters.parentRegionId);
    return (await query.orderBy('id').execute()).map(regionFromRow);
  }

  async createRegion(input: RegionInput): Promise<Region> {
    const id = input.id ? input.id : hexId();
    if (id.length > 255) throw badRequest(`Invalid input for field 'id': '${id}' is too long`);
    if (await this.findRegion(id)) throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
    const parent = input.parentRegionId ?? null;
    if (parent !== null && !(await this.findRegion(parent))) throw notFound(`Could not find region: ${parent}.`);
    const row: RegionRow = { id, description: input.description ?? '', parent_region_id: parent, extra: JSON.stringify(input.extra ?? {}) };
    await this.insertOrConflict(() => this.core.db.insertInto('identity_regions').values(row).execute(), `Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
    this.invalidate();
    notify(this.core, 'region', 'created', id);
    return regionFromRow(row);
  }

  async updateRegion(id: string, patch: RegionInput): Promise<Region> {
    const current = await this.getRegion(id);
    const parent = patch.parentRegionId === undefined ? current.parentRegionId : patch.parentRegionId;
    if (patch.parentRegionId !== undefined && parent !== null) {
      if (!(await this.findRegion(parent))) throw notFound(`Could not find region: ${parent}.`);
      await this.assertNoCycle(id, parent);
    }
    const updated: Region = {
      id,
      description: patch.description === undefined ? current.description : (patch.description ?? ''),
      parentRegionId: parent,
      extra: { ...current.extra, ...patch.extra },
    };
    await this.core.db
      .updateTable('identity_regions')
      .set({ description: updated.description, parent_region_id: updated.parentRegionId, extra: JSON.stringify(updated.extra) })
      .where('id', '=', id)
      .execute();
    this.invalidate();
    notify(this.core, 'region', 'updated', id);
    return updated;
  }

  /** Walks up from the proposed parent; meeting the region itself means a cycle. */
  private async assertNoCycle(regionId: string, parentId: string): Promise<void> {
    const seen = new Set<string>();
    let cursor: string | null = parentId;
    while (cursor !== null && !seen.has(cursor)) {
      if (cursor === regionId) throw badRequest(`The specified parent region ${parentId} would create a circular region hierarchy.`);
      seen.add(cursor);
      const row: { parent_region_id: string | null } | undefined = await this.core.db
        .selectFrom('identity_regions')
        .select('parent_region_id')
        .where('id', '=', cursor)
        .executeTakeFirst();
      cursor = row?.parent_region_id ?? null;
    }
  }

  /** Deletes a region and its descendants; 403 when any of them still has endpoints. */
  async deleteRegion(id: string): Promise<void> {
    await this.getRegion(id);
    const all = await this.core.db.selectFrom('identity_regions').select(['id', 'parent_region_id']).execute();
    const doomed = new Set<string>([id]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of all) {
        if (r.parent_region_id !== null && doomed.has(r.parent_region_id) && !doomed.has(r.id)) {
          doomed.add(r.id);
          grew = true;
        }
      }
    }
    const ids = [...doomed];
    const used = await this.core.db.selectFrom('identity_endpoints').select('id').where('region_id', 'in', ids).executeTakeFirst();
    if (used) throw new CloudError('forbidden', `Unable to delete region ${id} because it or its child regions have associated endpoints.`);
    const limited = await this.core.db.selectFrom('identity_registered_limits').select('id').where('region_id', 'in', ids).executeTakeFirst();
    if (limited) throw new CloudError('forbidden', `Unable to delete region ${id} because it or its child regions have registered limits.`);
    await this.core.db.deleteFrom('identity_regions').where('id', 'in', ids).execute();
    this.invalidate();
    for (const r of ids) notify(this.core, 'region', 'deleted', r);
  }

  // ---- services ----

  /** Bootstrap's shortcut. */
  async createService(type: string, name: string, description = '', enabled = true): Promise<string> {
    const service = await this.addService({ type, enabled, extra: { name, description } });
    return service.id;
  }

  async addService(input: ServiceInput & { type: string }): Promise<Service> {
    const extra = { name: '', ...input.extra };
    const row: ServiceRow = { id: hexId(), type: input.type, enabled: input.enabled === false ? 0 : 1, extra: JSON.stringify(extra) };
    await this.core.db.insertInto('identity_services').values(row).execute();
    this.invalidate();
    notify(this.core, 'service', 'created', row.id);
    return serviceFromRow(row);
  }

  async findService(id: string): Promise<Service | undefined> {
    const row = await this.core.db.selectFrom('identity_services').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? serviceFromRow(row) : undefined;
  }

  async getService(id: string): Promise<Service> {
    const service = await this.findService(id);
    if (!service) throw notFound(`Could not find service: ${id}.`);
    return service;
  }

  async listServices(filters: { type?: string; name?: string } = {}): Promise<Service[]> {
    let query = this.core.db.selectFrom('identity_services').selectAll();
    if (filters.type !== undefined) query = query.where('type', '=', filters.type);
    const services = (await query.orderBy('id').execute()).map(serviceFromRow);
    return filters.name === undefined ? services : services.filter((s) => s.extra.name === filters.name);
  }

  async updateService(id: string, patch: ServiceInput): Promise<Service> {
    const current = await this.getService(id);
    const updated: Service = {
      id,
      type: patch.type ?? current.type,
      enabled: patch.enabled ?? current.enabled,
      extra: { ...current.extra, ...patch.extra },
    };
    await this.core.db
      .updateTable('identity_services')
      .set({ type: updated.type, enabled: updated.enabled ? 1 : 0, extra: JSON.stringify(updated.extra) })
      .where('id', '=', id)
      .execute();
    this.invalidate();
    notify(this.core, 'service', 'updated', id);
    return updated;
  }

  /** Deletes a service with its endpoints (Keystone does the same). */
  async deleteService(id: string): Promise<void> {
    await this.getService(id);
    const endpointIds = (await this.core.db.selectFrom('identity_endpoints').select('id').where('service_id', '=', id).execute()).map((r) => r.id);
    await this.core.db.transaction().execute(async (trx) => {
      if (endpointIds.length) {
        await trx.deleteFrom('identity_project_endpoints').where('endpoint_id', 'in', endpointIds).execute();
        await trx.deleteFrom('identity_endpoints').where('service_id', '=', id).execute();
      }
      await trx.deleteFrom('identity_services').where('id', '=', id).execute();
    });
    this.invalidate();
    for (const e of endpointIds) notify(this.core, 'endpoint', 'deleted', e);
    notify(this.core, 'service', 'deleted', id);
  }

  // ---- endpoints ----

  /** Bootstrap's shortcut. */
  async createEndpoint(serviceId: string, iface: string, url: string, regionId: string | null, enabled = true): Promise<string> {
    const endpoint = await this.addEndpoint({ serviceId, interface: iface, url, regionId, enabled });
    return endpoint.id;
  }

  async addEndpoint(input: EndpointInput & { serviceId: string; interface: string; url: string }): Promise<Endpoint> {
    await this.assertEndpointRefs(input.serviceId, input.regionId ?? null);
    checkEndpointUrl(input.url);
    const row: EndpointRow = {
      id: hexId(),
      service_id: input.serviceId,
      region_id: input.regionId ?? null,
      interface: input.interface,
      url: input.url,
      enabled: input.enabled === false ? 0 : 1,
      extra: JSON.stringify(input.extra ?? {}),
    };
    await this.core.db.insertInto('identity_endpoints').values(row).execute();
    this.invalidate();
    notify(this.core, 'endpoint', 'created', row.id);
    return endpointFromRow(row);
  }

  private async assertEndpointRefs(serviceId: string | undefined, regionId: string | null | undefined): Promise<void> {
    const invalid = (attribute: string, target: string) =>
      badRequest(`Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
    if (regionId !== undefined && regionId !== null && !(await this.findRegion(regionId))) throw invalid('endpoint region_id', 'region table');
    if (serviceId !== undefined && !(await this.findService(serviceId))) throw invalid('endpoint service_id', 'service table');
  }

  async findEndpoint(id: string): Promise<Endpoint | undefined> {
    const row = await this.core.db.selectFrom('identity_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? endpointFromRow(row) : undefined;
  }

  async getEndpoint(id: string): Promise<Endpoint> {
    const endpoint = await this.findEndpoint(id);
    if (!endpoint) throw notFound(`Could not find endpoint: ${id}.`);
    return endpoint;
  }

  async listEndpoints(filters: { interface?: string; serviceId?: string; regionId?: string } = {}): Promise<Endpoint[]> {
    let query = this.core.db.selectFrom('identity_endpoints').selectAll();
    if (filters.interface !== undefined) query = query.where('interface', '=', filters.interface);
    if (filters.serviceId !== undefined) query = query.where('service_id', '=', filters.serviceId);
    if (filters.regionId !== undefined) query = query.where('region_id', '=', filters.regionId);
    return (await query.orderBy('id').execute()).map(endpointFromRow);
  }

  async updateEndpoint(id: string, patch: EndpointInput): Promise<Endpoint> {
    const current = await this.getEndpoint(id);
    await this.assertEndpointRefs(patch.serviceId, patch.regionId);
    if (patch.url !== undefined) checkEndpointUrl(patch.url);
    const updated: Endpoint = {
      id,
      serviceId: patch.serviceId ?? current.serviceId,
      regionId: patch.regionId === undefined ? current.regionId : patch.regionId,
      interface: patch.interface ?? current.interface,
      url: patch.url ?? current.url,
      enabled: patch.enabled ?? current.enabled,
      extra: { ...current.extra, ...patch.extra },
    };
    await this.core.db
      .updateTable('identity_endpoints')
      .set({
        service_id: updated.serviceId,
        region_id: updated.regionId,
        interface: updated.interface,
        url: updated.url,
        enabled: updated.enabled ? 1 : 0,
        extra: JSON.stringify(updated.extra),
      })
      .where('id', '=', id)
      .execute();
    this.invalidate();
    notify(this.core, 'endpoint', 'updated', id);
    return updated;
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.getEndpoint(id);
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_project_endpoints').where('endpoint_id', '=', id).execute();
      await trx.deleteFrom('identity_endpoints').where('id', '=', id).execute();
    });
    this.invalidate();
    notify(this.core, 'endpoint', 'deleted', id);
  }

  // ---- OS-EP-FILTER: project <-> endpoint ----

  async addEndpointToProject(endpointId: string, projectId: string): Promise<void> {
    await this.core.db
      .insertInto('identity_project_endpoints')
      .values({ endpoint_id: endpointId, project_id: projectId })
      .onConflict((oc) => oc.columns(['endpoint_id', 'project_id']).doNothing())
      .execute();
    this.invalidate();
  }

  async checkEndpointInProject(endpointId: string, projectId: string): Promise<void> {
    const row = await this.core.db
      .selectFrom('identity_project_endpoints')
      .select('endpoint_id')
      .where('endpoint_id', '=', endpointId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (!row) throw notFound(`Endpoint ${endpointId} not found in project ${projectId}`);
  }

  async removeEndpointFromProject(endpointId: string, projectId: string): Promise<void> {
    await this.checkEndpointInProject(endpointId, projectId);
    await this.core.db.deleteFrom('identity_project_endpoints').where('endpoint_id', '=', endpointId).where('project_id', '=', projectId).execute();
    this.invalidate();
  }

  async projectIdsForEndpoint(endpointId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom('identity_project_endpoints').select('project_id').where('endpoint_id', '=', endpointId).orderBy('project_id').execute();
    return rows.map((r) => r.project_id);
  }

  /** Endpoints a project is restricted to: direct associations plus its endpoint groups' matches. */
  async endpointsForProject(projectId: string): Promise<Endpoint[]> {
    const snap = await this.load();
    const allowed = this.allowedEndpointIds(snap, projectId);
    return snap.endpoints.filter((e) => allowed?.has(e.id)).map(endpointFromRow);
  }

  // ---- the token catalog ----

  /**
   * The catalog as a token shows it: enabled services with their enabled endpoints,
   * $(project_id)s / $(tenant_id)s / $(user_id)s filled in, and endpoints whose URL
   * cannot be completed left out. A project with OS-EP-FILTER associations sees only
   * those endpoints, and services left without endpoints disappear.
   */
  async catalogFor(projectId: string | null, userId: string | null = null): Promise<CatalogService[]> {
    const snap = await this.load();
    const allowed = projectId ? this.allowedEndpointIds(snap, projectId) : null;
    const out: CatalogService[] = [];
    for (const service of snap.services) {
      const extra = parseJson(service.extra);
      const endpoints: CatalogService['endpoints'] = [];
      for (const e of snap.endpoints) {
        if (e.service_id !== service.id || e.enabled !== 1) continue;
        if (allowed && !allowed.has(e.id)) continue;
        const url = substitute(e.url, projectId, userId);
        if (url !== null) endpoints.push({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url });
      }
      if (allowed && endpoints.length === 0) continue;
      out.push({ id: service.id, type: service.type, name: typeof extra.name === 'string' ? extra.name : '', endpoints });
    }
    return out;
  }

  /** null when the project has no OS-EP-FILTER associations (it then sees everything). */
  private allowedEndpointIds(snap: Snapshot, projectId: string): Set<string> | null {
    const direct = snap.projectEndpoints.get(projectId);
    const groups = snap.projectGroups.get(projectId);
    if (!direct && !groups) return null;
    const allowed = new Set(direct ?? []);
    for (const filters of groups ?? []) {
      for (const e of snap.endpoints) if (endpointMatches(e, filters)) allowed.add(e.id);
    }
    return allowed.size ? allowed : null;
  }

  private async load(): Promise<Snapshot> {
    const current = this.snapshot;
    if (current && performance.now() - current.loadedAt < SNAPSHOT_TTL_MS) return current;
    if (this.loading) return this.loading;
    const generation = this.generation;
    const loading = this.readSnapshot().then((snap) => {
      // A write during the read may have been missed: serve this result once, but don't keep it.
      if (generation === this.generation) this.snapshot = snap;
      return snap;
    });
    this.loading = loading;
    try {
      return await loading;
    } finally {
      if (this.loading === loading) this.loading = null;
    }
  }

  private async readSnapshot(): Promise<Snapshot> {
    const db = this.core.db;
    const [services, endpoints, projectEndpoints, projectGroups, groups] = await Promise.all([
      db.selectFrom('identity_services').selectAll().where('enabled', '=', 1).orderBy('id').execute(),
      db.selectFrom('identity_endpoints').selectAll().orderBy('id').execute(),
      db.selectFrom('identity_project_endpoints').selectAll().execute(),
      db.selectFrom('identity_project_endpoint_groups').selectAll().execute(),
      db.selectFrom('identity_endpoint_groups').select(['id', 'filters']).execute(),
    ]);
    const filtersById = new Map(groups.map((g) => [g.id, parseJson(g.filters) as EndpointFilters]));
    const snap: Snapshot = { loadedAt: performance.now(), services, endpoints, projectEndpoints: new Map(), projectGroups: new Map() };
    for (const pe of projectEndpoints) {
      const set = snap.projectEndpoints.get(pe.project_id) ?? new Set<string>();
      set.add(pe.endpoint_id);
      snap.projectEndpoints.set(pe.project_id, set);
    }
    for (const pg of projectGroups) {
      const filters = filtersById.get(pg.endpoint_group_id);
      if (!filters) continue;
      const list = snap.projectGroups.get(pg.project_id) ?? [];
      list.push(filters);
      snap.projectGroups.set(pg.project_id, list);
    }
    return snap;
  }

  private async insertOrConflict(insert: () => Promise<unknown>, message: string): Promise<void> {
    try {
      await insert();
    } catch (err) {
      // A concurrent insert of the same key lost the race after our existence check.
      if (isUniqueViolation(err)) throw conflict(message);
      throw err;
    }
  }
}

export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Fills Keystone's URL substitutions. null (leave the endpoint out) when one cannot be
 * filled: a project id without a project, or an option we have no value for.
 */
function substitute(url: string, projectId: string | null, userId: string | null): string | null {
  if (!url.includes('$(')) return url;
  let unresolved = false;
  const out = url.replace(/\$\(([a-z_]+)\)s/g, (_m, name: string) => {
    const value = name === 'project_id' || name === 'tenant_id' ? projectId : name === 'user_id' ? userId : null;
    if (value === null) unresolved = true;
    return value ?? '';
  });
  return unresolved ? null : out;
}
