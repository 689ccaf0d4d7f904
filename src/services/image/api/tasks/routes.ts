import type { FastifyInstance } from 'fastify';
import { CloudError, badRequest } from '../../../../common/errors.js';
import type { ImportService } from '../../import/service.js';
import { getTask, imageTasks, listTasks } from '../../import/task-access.js';
import type { ImageApi } from '../context.js';
import { renderImageTask, renderTask, renderTaskStub, taskSchema, tasksSchema } from './view.js';

type Query = Record<string, string | string[] | undefined>;

/** /v2/tasks (admin-only by tasks_api_access, as Glance), /v2/images/{id}/tasks, the task schemas. */
export async function taskRoutes(app: FastifyInstance, api: ImageApi, importer: ImportService): Promise<void> {
  app.get('/v2/schemas/task', async (request) => {
    await api.guard(request, 'get_task');
    return taskSchema();
  });
  app.get('/v2/schemas/tasks', async (request) => {
    await api.guard(request, 'get_tasks');
    return tasksSchema();
  });

  app.get('/v2/tasks', async (request) => {
    await api.guard(request, 'tasks_api_access');
    const caller = await api.guard(request, 'get_tasks');
    const query = request.query as Query;
    const page = await listTasks(importer, caller, query);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (key !== 'marker') for (const v of [value ?? []].flat()) params.append(key, v);
    const rest = params.toString();
    if (page.nextMarker) params.append('marker', page.nextMarker);
    return {
      tasks: page.tasks.map(renderTaskStub),
      first: rest ? `/v2/tasks?${rest}` : '/v2/tasks',
      schema: '/v2/schemas/tasks',
      ...(page.nextMarker ? { next: `/v2/tasks?${params.toString()}` } : {}),
    };
  });

  app.get<{ Params: { task_id: string } }>('/v2/tasks/:task_id', async (request) => {
    await api.guard(request, 'tasks_api_access');
    const caller = await api.guard(request, 'get_task');
    return renderTask(await getTask(importer, caller, request.params.task_id));
  });

  app.post('/v2/tasks', async (request) => {
    await api.guard(request, 'tasks_api_access');
    await api.guard(request, 'add_task');
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Body expected in request.');
    for (const key of ['type', 'input']) if (!(key in body)) throw badRequest(`Task '${key}' is required`);
    const type = (body as { type: unknown }).type;
    if (type !== 'import' && type !== 'api_image_import') throw badRequest(`Provided object does not match schema 'task': ${JSON.stringify(type)} is not one of ["import", "api_image_import"]`);
    // The pre-Queens task import flow (import_from URLs) is not built; the import API replaces it.
    throw new CloudError('not_implemented', 'Creating tasks is not supported here; use POST /v2/images/{image_id}/import.');
  });

  app.delete<{ Params: { task_id: string } }>('/v2/tasks/:task_id', async (request, reply) => {
    await api.guard(request, 'tasks_api_access');
    reply.header('allow', 'GET');
    throw new CloudError('method_not_allowed', 'This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property.');
  });

  app.get<{ Params: { image_id: string } }>('/v2/images/:image_id/tasks', async (request) => {
    const caller = await api.guard(request, 'get_image');
    return { tasks: (await imageTasks(importer, caller, request.params.image_id)).map(renderImageTask) };
  });
}
