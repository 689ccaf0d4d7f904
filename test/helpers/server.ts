import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningServer {
  url: string;
  authUrl: string;
  dataDir: string;
  adminPassword: string;
  pid: number;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts the real `nubes start` on a free loopback port with a temp data dir; stops it by PID. */
export interface ServerOptions {
  /** Reuse a data dir (restart tests); it is then left in place by stop(). */
  dataDir?: string;
  /** null: let the server generate (or keep) its own admin password. */
  adminPassword?: string | null;
  port?: number;
}

export async function startServer(extraArgs: string[] = [], env: Record<string, string> = {}, options: ServerOptions = {}): Promise<RunningServer> {
  const port = options.port ?? (await freePort());
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nubes-e2e-'));
  const adminPassword = options.adminPassword === undefined ? 'e2e-admin-pw' : options.adminPassword;
  const passwordArgs = adminPassword === null ? [] : ['--admin-password', adminPassword];
  const args = ['bin/nubes.mjs', 'start', '--data-dir', dataDir, '--bind', `127.0.0.1:${port}`, ...passwordArgs, '--log-level', 'warn', ...extraArgs];
  if (process.env.NUBES_TEST_DB) args.push('--db', process.env.NUBES_TEST_DB);
  const child = spawn(process.execPath, args, { env: { ...process.env, NUBES_FROM_SOURCE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${url}/healthcheck`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    authUrl: `${url}/identity/v3`,
    dataDir,
    adminPassword: adminPassword ?? '',
    pid: child.pid as number,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid as number, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) process.kill(child.pid as number, 'SIGKILL');
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs Debian's `openstack` CLI (its own entry point uses Debian's python3). */
export function openstack(args: string[], env: Record<string, string>): CliResult {
  const res = spawnSync('/usr/bin/openstack', args, { env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

/** The OS_* environment of the bootstrap admin in project admin, for Debian's CLIs. */
export function adminEnv(server: RunningServer): Record<string, string> {
  return {
    OS_AUTH_URL: server.authUrl,
    OS_USERNAME: 'admin',
    OS_PASSWORD: server.adminPassword,
    OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_IDENTITY_API_VERSION: '3',
    OS_REGION_NAME: 'RegionOne',
  };
}
