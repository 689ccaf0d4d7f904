import { badRequest, notFound } from '../../../common/errors.js';
import { isUuid } from '../../../common/ids.js';
import type { Caller } from '../caller.js';
import type { ImportService } from './service.js';
import { TASK_STATUSES, type Task, type TaskListQuery, type TaskStatus } from './tasks.js';

type Query = Record<string, string | string[] | undefined>;

const SORT_KEYS: readonly TaskListQuery['sortKey'][] = ['created_at', 'updated_at', 'id', 'status', 'type', 'expires_at', 'owner'];
const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v);

/** Glance's _is_task_visible: admins see every task, others their project's. */
const visible = (caller: Caller, task: Task): boolean => caller.isAdmin || (caller.project !== null && task.owner === caller.project);

export async function getTask(svc: ImportService, caller: Caller, id: string): Promise<Task> {
  const task = await svc.tasks.find(id, svc.image.now());
  if (!task || !visible(caller, task)) throw notFound(`Task with the given ID ${id} was not found`);
  return task;
}

/** GET /v2/tasks with Glance's parameter checks; returns the page and the marker of the next one. */
export async function listTasks(svc: ImportService, caller: Caller, query: Query): Promise<{ tasks: Task[]; nextMarker: string | null }> {
  const sortDir = single(query.sort_dir) ?? 'desc';
  if (sortDir !== 'asc' && sortDir !== 'desc') throw badRequest(`Invalid sort direction: ${sortDir}`);
  const sortKey = single(query.sort_key) ?? 'created_at';
  if (!(SORT_KEYS as readonly string[]).includes(sortKey)) throw badRequest(`Invalid sort key: ${sortKey}.`);
  const status = single(query.status);
  if (status && !(TASK_STATUSES as readonly string[]).includes(status)) throw badRequest(`Invalid status value: ${status}`);
  const type = single(query.type);
  if (type && type !== 'import') throw badRequest(`Invalid type value: ${type}`);
  const markerId = single(query.marker);
  if (markerId !== undefined && !isUuid(markerId)) throw badRequest('Invalid marker format');
  let limit = svc.image.config.limit_param_default;
  const limitText = single(query.limit);
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText.trim())) throw badRequest('limit param must be an integer');
    limit = Number(limitText);
    if (limit < 0) throw badRequest('limit param must be positive');
  }
  limit = Math.min(limit, svc.image.config.api_limit_max);
  const now = svc.image.now();
  const marker = markerId ? await svc.tasks.find(markerId, now) : undefined;
  if (markerId && (!marker || !visible(caller, marker))) throw badRequest(`Task with the given ID ${markerId} was not found`);
  const tasks = await svc.tasks.list(
    {
      owner: caller.isAdmin ? null : (caller.project ?? ''),
      ...(status ? { status: status as TaskStatus } : {}),
      ...(type ? { type } : {}),
      sortKey: sortKey as TaskListQuery['sortKey'],
      sortDir,
      ...(marker ? { marker } : {}),
      limit,
    },
    now,
  );
  const last = tasks[tasks.length - 1];
  return { tasks, nextMarker: tasks.length > 0 && tasks.length === limit && last ? last.id : null };
}

/** GET /v2/images/{id}/tasks (v2.12): the image's tasks the caller may see. */
export async function imageTasks(svc: ImportService, caller: Caller, imageId: string): Promise<Task[]> {
  const image = await svc.image.repo.find(imageId);
  // Glance answers a bare 404 both for a missing image and one the caller may not see.
  if (!image || !(await svc.image.visible(caller, image))) throw notFound('The resource could not be found.');
  return (await svc.tasks.forImage(imageId, svc.image.now())).filter((t) => visible(caller, t));
}
