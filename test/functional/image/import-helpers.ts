import assert from 'node:assert/strict';
import type { TestCloud } from '../../helpers/cloud.js';

/** Small clients for the import tests: JSON image calls, raw data calls, polling. */
export function imageClient(t: TestCloud, token: string) {
  const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    t.request(method, `/image${path}`, { token, headers: { accept: 'application/json', ...headers }, ...(body !== undefined ? { body } : {}) });
  const raw = async (method: 'PUT' | 'GET', path: string, payload?: Buffer, headers: Record<string, string> = {}) => {
    const res = await t.cloud.app.inject({ method, url: `/image${path}`, headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', ...headers }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, text: res.body, raw: res.rawPayload, headers: res.headers };
  };
  return {
    json,
    raw,
    async create(body: Record<string, unknown> = {}): Promise<string> {
      const res = await json('POST', '/v2/images', { name: 'imp', disk_format: 'raw', container_format: 'bare', ...body });
      assert.equal(res.status, 201, res.text);
      return res.json.id as string;
    },
    async show(id: string): Promise<Record<string, any>> {
      const res = await json('GET', `/v2/images/${id}`);
      assert.equal(res.status, 200, res.text);
      return res.json;
    },
    async stage(id: string, data: Buffer): Promise<void> {
      const res = await raw('PUT', `/v2/images/${id}/stage`, data);
      assert.equal(res.status, 204, res.text);
    },
    async import(id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
      return json('POST', `/v2/images/${id}/import`, body, headers);
    },
    /** Polls the image until `done` holds (jobs run on the worker pool). */
    async waitFor(id: string, done: (image: Record<string, any>) => boolean, what: string): Promise<Record<string, any>> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const image = await this.show(id);
        if (done(image)) return image;
        if (Date.now() > deadline) assert.fail(`image ${id} never became ${what}: ${JSON.stringify(image)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async tasks(id: string): Promise<Record<string, any>[]> {
      const res = await json('GET', `/v2/images/${id}/tasks`);
      assert.equal(res.status, 200, res.text);
      return res.json.tasks as Record<string, any>[];
    },
    async waitForTask(id: string, status: string): Promise<Record<string, any>> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const tasks = await this.tasks(id);
        const last = tasks[tasks.length - 1];
        if (last && last.status === status) return last;
        if (Date.now() > deadline) assert.fail(`task of ${id} never reached ${status}: ${JSON.stringify(tasks)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export async function projectToken(t: TestCloud, name: string, role = 'member'): Promise<{ token: string; projectId: string }> {
  const admin = await t.adminToken();
  const project = await t.request('POST', '/identity/v3/projects', { token: admin, body: { project: { name, domain_id: 'default' } } });
  assert.equal(project.status, 201, project.text);
  const user = await t.request('POST', '/identity/v3/users', { token: admin, body: { user: { name: `${name}-user`, password: 'pw-imp-123', domain_id: 'default' } } });
  const roles = await t.request('GET', `/identity/v3/roles?name=${role}`, { token: admin });
  await t.request('PUT', `/identity/v3/projects/${project.json.project.id}/users/${user.json.user.id}/roles/${roles.json.roles[0].id}`, { token: admin });
  const login = await t.login({ name: `${name}-user`, password: 'pw-imp-123' }, { project: { id: project.json.project.id } });
  assert.equal(login.status, 201, login.text);
  return { token: login.token, projectId: project.json.project.id as string };
}
