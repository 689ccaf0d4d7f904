import { randomBytes } from 'node:crypto';
import { badRequest, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { parseJson, type EndpointGroupRow, type OauthConsumerRow, type PolicyRow } from '../store/tables.js';
import { endpointFromRow, endpointMatches, type Endpoint, type EndpointFilters } from './catalog.js';
import { notify, type IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

export interface Policy {
  id: string;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}
export interface Consumer {
  id: string;
  description: string | null;
  extra: Record<string, unknown>;
}
export interface EndpointGroup {
  id: string;
  name: string;
  description: string | null;
  filters: EndpointFilters;
}

const FILTER_KEYS = ['service_id', 'region_id', 'interface'] as const;

function policyFromRow(row: PolicyRow): Policy {
  return { id: row.id, type: row.type, blob: row.blob, extra: parseJson(row.extra) };
}
function consumerFromRow(row: OauthConsumerRow): Consumer {
  return { id: row.id, description: row.description, extra: parseJson(row.extra) };
}
function groupFromRow(row: EndpointGroupRow): EndpointGroup {
  return { id: row.id, name: row.name, description: row.description, filters: parseJson(row.filters) as EndpointFilters };
}

/** Keystone accepts only these attributes in endpoint-group filters, all strings. */
export function validateEndpointFilters(filters: Record<string, unknown>): EndpointFilters {
  const keys = Object.keys(filters);
  if (keys.length === 0) throw badRequest('filters field is required and cannot be empty');
  const out: EndpointFilters = {};
  for (const key of keys) {
    const value = filters[key];
    if (!(FILTER_KEYS as readonly string[]).includes(key) || typeof value !== 'string') {
      throw badRequest(`Expecting to find ${FILTER_KEYS.join(' or ')} in endpoint_group. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
    }
    out[key as (typeof FILTER_KEYS)[number]] = value;
  }
  return out;
}

/** Smaller Keystone resources: policies (/v3/policies), OS-OAUTH1 consumers and endpoint groups. */
export class ExtrasManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {}

  // ---- policies (opaque blobs Keystone stores for other services) ----

  async createPolicy(input: { type: string; blob: string; extra?: Record<string, unknown> }): Promise<Policy> {
    const row: PolicyRow = { id: hexId(), type: input.type, blob: input.blob, extra: JSON.stringify(input.extra ?? {}) };
    await this.core.db.insertInto('identity_policies').values(row).execute();
    notify(this.core, 'policy', 'created', row.id);
    return policyFromRow(row);
  }

  async getPolicy(id: string): Promise<Policy> {
    const row = await this.core.db.selectFrom('identity_policies').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find policy: ${id}.`);
    return policyFromRow(row);
  }

  async listPolicies(filters: { type?: string } = {}): Promise<Policy[]> {
    let query = this.core.db.selectFrom('identity_policies').selectAll();
    if (filters.type !== undefined) query = query.where('type', '=', filters.type);
    return (await query.orderBy('id').execute()).map(policyFromRow);
  }

  async updatePolicy(id: string, patch: { type?: string; blob?: string; extra?: Record<string, unknown> }): Promise<Policy> {
    const current = await this.getPolicy(id);
    const updated: Policy = { id, type: patch.type ?? current.type, blob: patch.blob ?? current.blob, extra: { ...current.extra, ...patch.extra } };
    await this.core.db.updateTable('identity_policies').set({ type: updated.type, blob: updated.blob, extra: JSON.stringify(updated.extra) }).where('id', '=', id).execute();
    notify(this.core, 'policy', 'updated', id);
    return updated;
  }

  async deletePolicy(id: string): Promise<void> {
    await this.getPolicy(id);
    await this.core.db.deleteFrom('identity_policies').where('id', '=', id).execute();
    notify(this.core, 'policy', 'deleted', id);
  }

  // ---- OS-OAUTH1 consumers ----

  /** The secret is returned here only; reads never show it again. */
  async createConsumer(input: { description?: string | null; extra?: Record<string, unknown> }): Promise<Consumer & { secret: string }> {
    const secret = randomBytes(16).toString('hex');
    const row: OauthConsumerRow = { id: hexId(), description: input.description ?? null, secret, extra: JSON.stringify(input.extra ?? {}) };
    await this.core.db.insertInto('identity_oauth_consumers').values(row).execute();
    notify(this.core, 'consumer', 'created', row.id);
    return { ...consumerFromRow(row), secret };
  }

  async getConsumer(id: string): Promise<Consumer> {
    const row = await this.core.db.selectFrom('identity_oauth_consumers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Consumer not found');
    return consumerFromRow(row);
  }

  async listConsumers(): Promise<Consumer[]> {
    return (await this.core.db.selectFrom('identity_oauth_consumers').selectAll().orderBy('id').execute()).map(consumerFromRow);
  }

  async updateConsumer(id: string, patch: { description?: string | null; extra?: Record<string, unknown> }): Promise<Consumer> {
    const current = await this.getConsumer(id);
    const updated: Consumer = {
      id,
      description: patch.description === undefined ? current.description : patch.description,
      extra: { ...current.extra, ...patch.extra },
    };
    await this.core.db.updateTable('identity_oauth_consumers').set({ description: updated.description, extra: JSON.stringify(updated.extra) }).where('id', '=', id).execute();
    notify(this.core, 'consumer', 'updated', id);
    return updated;
  }

  async deleteConsumer(id: string): Promise<void> {
    await this.getConsumer(id);
    await this.core.db.deleteFrom('identity_oauth_consumers').where('id', '=', id).execute();
    notify(this.core, 'consumer', 'deleted', id);
  }

  // ---- OS-EP-FILTER endpoint groups ----

  async createEndpointGroup(input: { name: string; description?: string | null; filters: EndpointFilters }): Promise<EndpointGroup> {
    const row: EndpointGroupRow = { id: hexId(), name: input.name, description: input.description ?? null, filters: JSON.stringify(input.filters) };
    await this.core.db.insertInto('identity_endpoint_groups').values(row).execute();
    notify(this.core, 'endpoint_group', 'created', row.id);
    return groupFromRow(row);
  }

  async getEndpointGroup(id: string): Promise<EndpointGroup> {
    const row = await this.core.db.selectFrom('identity_endpoint_groups').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`Could not find Endpoint Group: ${id}.`);
    return groupFromRow(row);
  }

  async listEndpointGroups(filters: { name?: string } = {}): Promise<EndpointGroup[]> {
    let query = this.core.db.selectFrom('identity_endpoint_groups').selectAll();
    if (filters.name !== undefined) query = query.where('name', '=', filters.name);
    return (await query.orderBy('id').execute()).map(groupFromRow);
  }

  async updateEndpointGroup(id: string, patch: { name?: string; description?: string | null; filters?: EndpointFilters }): Promise<EndpointGroup> {
    const current = await this.getEndpointGroup(id);
    const updated: EndpointGroup = {
      id,
      name: patch.name ?? current.name,
      description: patch.description === undefined ? current.description : patch.description,
      filters: patch.filters ?? current.filters,
    };
    await this.core.db
      .updateTable('identity_endpoint_groups')
      .set({ name: updated.name, description: updated.description, filters: JSON.stringify(updated.filters) })
      .where('id', '=', id)
      .execute();
    this.svc.catalog.invalidate();
    notify(this.core, 'endpoint_group', 'updated', id);
    return updated;
  }

  async deleteEndpointGroup(id: string): Promise<void> {
    await this.getEndpointGroup(id);
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_project_endpoint_groups').where('endpoint_group_id', '=', id).execute();
      await trx.deleteFrom('identity_endpoint_groups').where('id', '=', id).execute();
    });
    this.svc.catalog.invalidate();
    notify(this.core, 'endpoint_group', 'deleted', id);
  }

  async endpointsInGroup(id: string): Promise<Endpoint[]> {
    const group = await this.getEndpointGroup(id);
    const rows = await this.core.db.selectFrom('identity_endpoints').selectAll().orderBy('id').execute();
    return rows.filter((e) => endpointMatches(e, group.filters)).map(endpointFromRow);
  }

  async addEndpointGroupToProject(groupId: string, projectId: string): Promise<void> {
    await this.core.db
      .insertInto('identity_project_endpoint_groups')
      .values({ endpoint_group_id: groupId, project_id: projectId })
      .onConflict((oc) => oc.columns(['endpoint_group_id', 'project_id']).doNothing())
      .execute();
    this.svc.catalog.invalidate();
  }

  async checkEndpointGroupInProject(groupId: string, projectId: string): Promise<void> {
    const row = await this.core.db
      .selectFrom('identity_project_endpoint_groups')
      .select('project_id')
      .where('endpoint_group_id', '=', groupId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (!row) throw notFound(`Endpoint Group Project Association not found`);
  }

  async removeEndpointGroupFromProject(groupId: string, projectId: string): Promise<void> {
    await this.checkEndpointGroupInProject(groupId, projectId);
    await this.core.db.deleteFrom('identity_project_endpoint_groups').where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).execute();
    this.svc.catalog.invalidate();
  }

  async projectIdsForEndpointGroup(groupId: string): Promise<string[]> {
    await this.getEndpointGroup(groupId);
    const rows = await this.core.db.selectFrom('identity_project_endpoint_groups').select('project_id').where('endpoint_group_id', '=', groupId).orderBy('project_id').execute();
    return rows.map((r) => r.project_id);
  }

  async endpointGroupsForProject(projectId: string): Promise<EndpointGroup[]> {
    const rows = await this.core.db
      .selectFrom('identity_endpoint_groups')
      .innerJoin('identity_project_endpoint_groups', 'identity_project_endpoint_groups.endpoint_group_id', 'identity_endpoint_groups.id')
      .selectAll('identity_endpoint_groups')
      .where('identity_project_endpoint_groups.project_id', '=', projectId)
      .orderBy('identity_endpoint_groups.id')
      .execute();
    return rows.map(groupFromRow);
  }
}
