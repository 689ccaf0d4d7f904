import { isoSeconds, parseIso } from '../../../../common/db/time.js';
import type { Task } from '../../import/tasks.js';
import { pagedCollectionSchema } from '../schemas/collection.js';

const wireTime = (iso: string): string => isoSeconds(parseIso(iso));
/** jsonutils.to_primitive of a datetime: microseconds, no zone (GET /v2/images/{id}/tasks). */
const primitiveTime = (iso: string | null): string | null => (iso === null ? null : iso.replace(/Z$/, ''));

/** Glance's TasksController serializer (_format_task). */
export function renderTask(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    input: task.input,
    type: task.type,
    status: task.status,
    owner: task.owner,
    message: task.message,
    result: task.result,
    created_at: wireTime(task.createdAt),
    updated_at: wireTime(task.updatedAt),
    self: `/v2/tasks/${task.id}`,
    schema: '/v2/schemas/task',
    ...(task.imageId ? { image_id: task.imageId } : {}),
    ...(task.requestId ? { request_id: task.requestId } : {}),
    ...(task.userId ? { user_id: task.userId } : {}),
    ...(task.expiresAt ? { expires_at: wireTime(task.expiresAt) } : {}),
  };
}

/** The list form (_format_task_stub): no input, result or message. */
export function renderTaskStub(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    status: task.status,
    owner: task.owner,
    created_at: wireTime(task.createdAt),
    updated_at: wireTime(task.updatedAt),
    self: `/v2/tasks/${task.id}`,
    schema: '/v2/schemas/task',
    ...(task.expiresAt ? { expires_at: wireTime(task.expiresAt) } : {}),
  };
}

/** GET /v2/images/{id}/tasks returns the database records as they are (db api _task_format). */
export function renderImageTask(task: Task): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    status: task.status,
    owner: task.owner,
    expires_at: primitiveTime(task.expiresAt),
    created_at: primitiveTime(task.createdAt),
    updated_at: primitiveTime(task.updatedAt),
    deleted_at: null,
    deleted: false,
    image_id: task.imageId,
    request_id: task.requestId,
    user_id: task.userId,
    input: task.input,
    result: task.result,
    message: task.message,
  };
}

const TASK_PROPERTIES: Record<string, Record<string, unknown>> = {
  id: { description: 'An identifier for the task', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$', type: 'string' },
  type: { description: 'The type of task represented by this content', enum: ['import', 'api_image_import'], type: 'string' },
  status: { description: 'The current status of this task', enum: ['pending', 'processing', 'success', 'failure'], type: 'string' },
  input: { description: 'The parameters required by task, JSON blob', type: ['null', 'object'] },
  result: { description: 'The result of current task, JSON blob', type: ['null', 'object'] },
  owner: { description: 'An identifier for the owner of this task', type: 'string' },
  message: { description: 'Human-readable informative message only included when appropriate (usually on failure)', type: 'string' },
  image_id: { description: 'Image associated with the task', type: 'string' },
  request_id: { description: 'Human-readable informative request-id', type: 'string' },
  user_id: { description: 'User associated with the task', type: 'string' },
  expires_at: { description: 'Datetime when this resource would be subject to removal', type: ['null', 'string'] },
  created_at: { description: 'Datetime when this resource was created', type: 'string' },
  updated_at: { description: 'Datetime when this resource was updated', type: 'string' },
  self: { readOnly: true, type: 'string' },
  schema: { readOnly: true, type: 'string' },
};

/** GET /v2/schemas/task: Glance's task schema (Schema.raw()). */
export function taskSchema(): Record<string, unknown> {
  return { name: 'task', properties: TASK_PROPERTIES, additionalProperties: false };
}

/** GET /v2/schemas/tasks: the collection of partial tasks (no input, result, message). */
export function tasksSchema(): Record<string, unknown> {
  const { input: _i, result: _r, message: _m, ...partial } = TASK_PROPERTIES;
  return pagedCollectionSchema('tasks', { type: 'array', items: { name: 'task', properties: partial, additionalProperties: false } });
}
