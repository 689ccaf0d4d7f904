import { badRequest, conflict, notFound } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { parseJson, type GroupRow } from '../store/tables.js';
import type { IdentityCore } from './core.js';
import { notify } from './core.js';
import { rethrowDuplicate } from './users.js';
import type { IdentityService } from '../service.js';

/** A group as the API renders it; description stays null when a client stored null. */
export interface GroupEntity {
  id: string;
  name: string;
  domainId: string;
  description: string | null;
  extra: Record<string, unknown>;
}

export interface NewGroup {
  name: string;
  domainId: string;
  description?: string | null;
  extra?: Record<string, unknown>;
}

export interface GroupPatch {
  name?: string;
  domainId?: string;
  description?: string | null;
  extra?: Record<string, unknown>;
}

export function groupFromRow(row: GroupRow): GroupEntity {
  return { id: row.id, name: row.name, domainId: row.domain_id, description: row.description, extra: parseJson(row.extra) };
}

const GROUP_GRANTS = ['GroupProject', 'GroupDomain', 'GroupSystem'] as const;

/** Groups and membership (Keystone's identity backend, group half). */
export class GroupManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {}

  async findRow(id: string): Promise<GroupRow | undefined> {
    return this.core.db.selectFrom('identity_groups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async getGroup(id: string): Promise<GroupEntity> {
    const row = await this.findRow(id);
    if (!row) throw notFound(`Could not find group: ${id}.`);
    return groupFromRow(row);
  }

  private async assertNameFree(name: string, domainId: string, exceptId?: string): Promise<void> {
    let query = this.core.db.selectFrom('identity_groups').select('id').where('domain_id', '=', domainId).where('name', '=', name);
    if (exceptId) query = query.where('id', '!=', exceptId);
    if (await query.executeTakeFirst()) {
      throw conflict(`Conflict occurred attempting to store group - Duplicate entry found with name ${name} at domain ID ${domainId}.`);
    }
  }

  async create(input: NewGroup): Promise<GroupEntity> {
    const domain = await this.core.db.selectFrom('identity_projects').select('id').where('id', '=', input.domainId).where('is_domain', '=', 1).executeTakeFirst();
    if (!domain) throw notFound(`Could not find domain: ${input.domainId}.`);
    const name = input.name.trim();
    await this.assertNameFree(name, input.domainId);
    const row: GroupRow = {
      id: hexId(),
      name,
      domain_id: input.domainId,
      description: input.description === undefined ? '' : input.description,
      extra: JSON.stringify(input.extra ?? {}),
    };
    await this.core.db
      .insertInto('identity_groups')
      .values(row)
      .execute()
      .catch((err: unknown) => rethrowDuplicate(err, name, input.domainId, 'group'));
    notify(this.core, 'group', 'created', row.id);
    return groupFromRow(row);
  }

  async list(filters: { domainId?: string; name?: string } = {}): Promise<GroupEntity[]> {
    let query = this.core.db.selectFrom('identity_groups').selectAll();
    if (filters.domainId !== undefined) query = query.where('domain_id', '=', filters.domainId);
    if (filters.name !== undefined) query = query.where('name', '=', filters.name);
    const rows = await query.orderBy('name').orderBy('id').execute();
    return rows.map(groupFromRow);
  }

  async update(id: string, patch: GroupPatch): Promise<GroupEntity> {
    const row = await this.findRow(id);
    if (!row) throw notFound(`Could not find group: ${id}.`);
    if (patch.domainId !== undefined && patch.domainId !== row.domain_id) throw badRequest('Cannot change Domain ID');
    const name = patch.name !== undefined ? patch.name.trim() : row.name;
    if (name !== row.name) await this.assertNameFree(name, row.domain_id, id);
    const changes = {
      name,
      description: patch.description !== undefined ? patch.description : row.description,
      extra: JSON.stringify({ ...parseJson(row.extra), ...(patch.extra ?? {}) }),
    };
    await this.core.db
      .updateTable('identity_groups')
      .set(changes)
      .where('id', '=', id)
      .execute()
      .catch((err: unknown) => rethrowDuplicate(err, name, row.domain_id, 'group'));
    notify(this.core, 'group', 'updated', id);
    return groupFromRow({ ...row, ...changes });
  }

  /** Deletes the group, its grants and memberships; members lose their tokens when the group carried roles. */
  async delete(id: string): Promise<void> {
    if (!(await this.findRow(id))) throw notFound(`Could not find group: ${id}.`);
    const members = await this.memberIds(id);
    const grants = await this.core.db.selectFrom('identity_assignments').select('role_id').where('actor_id', '=', id).where('type', 'in', [...GROUP_GRANTS]).limit(1).execute();
    await this.core.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('identity_assignments').where('actor_id', '=', id).where('type', 'in', [...GROUP_GRANTS]).execute();
      await trx.deleteFrom('identity_group_members').where('group_id', '=', id).execute();
      await trx.deleteFrom('identity_groups').where('id', '=', id).execute();
    });
    if (grants.length) for (const userId of members) await this.svc.users.revokeUser(userId);
    this.core.onRevocation();
    notify(this.core, 'group', 'deleted', id);
  }

  private async memberIds(groupId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom('identity_group_members').select('user_id').where('group_id', '=', groupId).execute();
    return rows.map((r) => r.user_id);
  }

  private async assertGroupAndUser(groupId: string, userId: string): Promise<void> {
    if (!(await this.findRow(groupId))) throw notFound(`Could not find group: ${groupId}.`);
    const user = await this.core.db.selectFrom('identity_users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound(`Could not find user: ${userId}.`);
  }

  private async isMember(groupId: string, userId: string): Promise<boolean> {
    const row = await this.core.db.selectFrom('identity_group_members').select('user_id').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
    return Boolean(row);
  }

  /** PUT /v3/groups/{g}/users/{u}: idempotent; the user's effective roles change at once. */
  async addUser(groupId: string, userId: string): Promise<void> {
    await this.assertGroupAndUser(groupId, userId);
    await this.core.db.insertInto('identity_group_members').values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.doNothing()).execute();
    this.core.onRevocation();
  }

  async checkUser(groupId: string, userId: string): Promise<void> {
    await this.assertGroupAndUser(groupId, userId);
    if (!(await this.isMember(groupId, userId))) throw notFound(`User '${userId}' not found in group '${groupId}'`);
  }

  /** Keystone revokes every token of a user leaving a group. */
  async removeUser(groupId: string, userId: string): Promise<void> {
    if (!(await this.isMember(groupId, userId))) {
      await this.assertGroupAndUser(groupId, userId);
      throw notFound(`User '${userId}' not found in group '${groupId}'`);
    }
    await this.core.db.deleteFrom('identity_group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute();
    await this.svc.users.revokeUser(userId);
  }

  async listForUser(userId: string, filters: { name?: string } = {}): Promise<GroupEntity[]> {
    const user = await this.core.db.selectFrom('identity_users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound(`Could not find user: ${userId}.`);
    let query = this.core.db
      .selectFrom('identity_groups')
      .selectAll()
      .where('id', 'in', this.core.db.selectFrom('identity_group_members').select('group_id').where('user_id', '=', userId));
    if (filters.name !== undefined) query = query.where('name', '=', filters.name);
    const rows = await query.orderBy('name').orderBy('id').execute();
    return rows.map(groupFromRow);
  }
}
