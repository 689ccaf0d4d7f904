import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort, startServer } from '../helpers/server.js';

async function token(url: string, password: string): Promise<{ status: number; token: string | null }> {
  const res = await fetch(`${url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  return { status: res.status, token: res.headers.get('x-subject-token') };
}

/** The real process: first start bootstraps and writes clouds.yaml, SIGTERM exits 0, a restart keeps everything. */
describe('e2e: nubes start lifecycle', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubes-life-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('bootstraps with a generated password, stops cleanly and keeps state across restarts', async () => {
    const port = await freePort();
    const first = await startServer([], {}, { dataDir, adminPassword: null, port });
    const generated = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
    assert.ok(generated.length >= 16);
    assert.equal(statSync(join(dataDir, 'admin-password')).mode & 0o777, 0o600);
    const clouds = parse(readFileSync(join(dataDir, 'clouds.yaml'), 'utf8')) as { clouds: Record<string, { auth: Record<string, string> }> };
    assert.deepEqual(Object.keys(clouds.clouds).sort(), ['nubes', 'nubes-demo', 'nubes-system']);
    assert.equal(clouds.clouds.nubes.auth.password, generated);
    assert.equal(clouds.clouds['nubes-system'].auth.system_scope, 'all');
    assert.match(first.output(), /Nubes is ready at/);

    const issued = await token(first.url, generated);
    assert.equal(issued.status, 201);
    const created = await fetch(`${first.url}/identity/v3/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': String(issued.token) },
      body: JSON.stringify({ project: { name: 'survives-restart' } }),
    });
    assert.equal(created.status, 201);
    await first.stop();
    assert.equal(first.process.exitCode, 0, 'SIGTERM must shut down cleanly');

    const second = await startServer([], {}, { dataDir, adminPassword: null, port });
    try {
      const again = await token(second.url, generated);
      assert.equal(again.status, 201, 'the generated password is kept');
      // Fernet keys are kept too: the token issued before the restart still validates.
      const validated = await fetch(`${second.url}/identity/v3/auth/tokens`, { headers: { 'x-auth-token': String(again.token), 'x-subject-token': String(issued.token) } });
      assert.equal(validated.status, 200);
      const listed = (await (await fetch(`${second.url}/identity/v3/projects?name=survives-restart`, { headers: { 'x-auth-token': String(again.token) } })).json()) as { projects: unknown[] };
      assert.equal(listed.projects.length, 1);
    } finally {
      await second.stop();
    }
  });
});
