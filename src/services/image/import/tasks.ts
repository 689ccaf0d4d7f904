import type { Kysely } from 'kysely';
import type { Database } from '../../../common/db/index.js';

export type TaskStatus = 'pending' | 'processing' | 'success' | 'failure';
export const TASK_STATUSES: readonly TaskStatus[] = ['pending', 'processing', 'success', 'failure'];

/** A Glance task (only `api_image_import` ones are created here; the old `import` type is listed as valid). */
export interface Task {
  id: string;
  type: 'api_image_import' | 'import';
  status: TaskStatus;
  owner: string | null;
  imageId: string | null;
  requestId: string | null;
  userId: string | null;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  message: string;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Row of image_tasks (migration 0002). */
export interface TaskRow {
  id: string;
  type: string;
  status: string;
  owner: string | null;
  image_id: string | null;
  request_id: string | null;
  user_id: string | null;
  input: string;
  result: string | null;
  message: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

interface TaskTables {
  image_tasks: TaskRow;
}

export interface TaskListQuery {
  /** null: every owner (admins). */
  owner: string | null;
  status?: TaskStatus;
  type?: string;
  sortKey: 'created_at' | 'updated_at' | 'id' | 'status' | 'type' | 'expires_at' | 'owner';
  sortDir: 'asc' | 'desc';
  marker?: Task;
  limit: number;
}

/**
 * Task records. Finished tasks get expires_at = finish + task_time_to_live and disappear from
 * every query afterwards; purge() deletes them, as Glance's task soft-delete does.
 */
export class TaskRepository {
  private readonly db: Kysely<TaskTables>;

  constructor(database: Database) {
    this.db = database.typed<TaskTables>();
  }

  async insert(task: Task): Promise<void> {
    await this.db.insertInto('image_tasks').values(toRow(task)).execute();
  }

  async find(id: string, now: string): Promise<Task | null> {
    const row = await this.db
      .selectFrom('image_tasks')
      .selectAll()
      .where('id', '=', id)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>=', now)]))
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async forImage(imageId: string, now: string): Promise<Task[]> {
    const rows = await this.db
      .selectFrom('image_tasks')
      .selectAll()
      .where('image_id', '=', imageId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>=', now)]))
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  async list(query: TaskListQuery, now: string): Promise<Task[]> {
    let q = this.db
      .selectFrom('image_tasks')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>=', now)]));
    if (query.owner !== null) q = q.where('owner', '=', query.owner);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.type) q = q.where('type', '=', query.type);
    const key = query.sortKey;
    const marker = query.marker;
    if (marker) {
      const value = toRow(marker)[key] ?? '';
      const cmp = query.sortDir === 'asc' ? '>' : '<';
      q = q.where((eb) => eb.or([eb(key, cmp, value), eb.and([eb(key, '=', value), eb('id', cmp, marker.id)])]));
    }
    const rows = await q.orderBy(key, query.sortDir).orderBy('id', query.sortDir).limit(query.limit).execute();
    return rows.map(fromRow);
  }

  /** Compare-and-set of the status; every other given field is written with it. */
  async transition(id: string, from: readonly TaskStatus[], to: TaskStatus, fields: { result?: Record<string, unknown>; message?: string; expiresAt?: string | null; updatedAt: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('image_tasks')
      .set({
        status: to,
        updated_at: fields.updatedAt,
        ...(fields.result !== undefined ? { result: JSON.stringify(fields.result) } : {}),
        ...(fields.message !== undefined ? { message: fields.message } : {}),
        ...(fields.expiresAt !== undefined ? { expires_at: fields.expiresAt } : {}),
      })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Progress note of a running task; also keeps its updated_at fresh (import locks expire by it). */
  async note(id: string, message: string, updatedAt: string): Promise<boolean> {
    const result = await this.db.updateTable('image_tasks').set({ message, updated_at: updatedAt }).where('id', '=', id).where('status', '=', 'processing').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async purge(now: string): Promise<number> {
    const result = await this.db.deleteFrom('image_tasks').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRow(task: Task): TaskRow {
  return {
    id: task.id,
    type: task.type,
    status: task.status,
    owner: task.owner,
    image_id: task.imageId,
    request_id: task.requestId,
    user_id: task.userId,
    input: JSON.stringify(task.input),
    result: task.result === null ? null : JSON.stringify(task.result),
    message: task.message,
    expires_at: task.expiresAt,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}

function fromRow(row: TaskRow): Task {
  return {
    id: row.id,
    type: row.type as Task['type'],
    status: row.status as TaskStatus,
    owner: row.owner,
    imageId: row.image_id,
    requestId: row.request_id,
    userId: row.user_id,
    input: JSON.parse(row.input) as Record<string, unknown>,
    result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
    message: row.message,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
