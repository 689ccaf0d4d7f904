import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/common/config/index.js';
import { createLogger } from '../../src/common/log.js';
import { buildCloud, type Cloud } from '../../src/app.js';
import type { Clock } from '../../src/common/clock.js';

export const ADMIN_PASSWORD = 'secret-admin-pw';

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
  /** The parsed JSON body as a loose record, for assertions. */
  json: Record<string, any>;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestCloud {
  cloud: Cloud;
  config: Config;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** A project-scoped admin token (cached). */
  adminToken(): Promise<string>;
  /** Password-authenticates any user; returns the token and body. */
  login(user: { name: string; password: string; domain?: string }, scope?: unknown): Promise<TestResponse & { token: string }>;
  close(): Promise<void>;
}

/**
 * A whole cloud in-process with `inject()`: temp SQLite by default, a throwaway
 * PostgreSQL database when NUBES_TEST_DB is a postgres:// URL (the suite runs on both).
 */
export async function startTestCloud(options: { set?: Record<string, unknown>; clock?: Clock } = {}): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nubes-test-'));
  const pgUrl = process.env.NUBES_TEST_DB;
  let dropDatabase: (() => Promise<void>) | null = null;
  let dbUrl: string | undefined;
  if (pgUrl && /^postgres/.test(pgUrl)) {
    const name = `nubes_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    dbUrl = url.toString();
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        // A plain DROP cancels autovacuum itself; WITH (FORCE) would need rights over the
        // autovacuum worker's role, which a CI role doesn't have. Retry while the pool's last
        // connections finish closing.
        for (let attempt = 0; ; attempt++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            break;
          } catch (err) {
            if (attempt >= 20) throw err;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      } finally {
        await c.end();
      }
    };
  }
  const config = loadConfig({
    env: {},
    overrides: {
      'server.data_dir': dataDir,
      'server.bind': '127.0.0.1:5000',
      'database.url': dbUrl,
      'identity.admin_password': ADMIN_PASSWORD,
      'identity.password_hash_rounds': 4,
      'log.level': process.env.NUBES_TEST_LOG ?? 'silent',
      ...options.set,
    },
  });
  const cloud = await buildCloud(config, { log: createLogger(config.log.level), clock: options.clock });
  let cachedAdmin: string | null = null;

  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['x-auth-token'] = opts.token;
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await cloud.app.inject({ method: method as 'GET', url: path, headers, payload });
    let body: unknown = undefined;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.statusCode, headers: res.headers as Record<string, string | string[] | undefined>, body, text: res.body, json: (body ?? {}) as Record<string, any> };
  };

  const login = async (user: { name: string; password: string; domain?: string }, scope?: unknown) => {
    const res = await request('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: user.name, domain: { id: user.domain ?? 'default' }, password: user.password } } },
          ...(scope === undefined ? {} : { scope }),
        },
      },
    });
    return { ...res, token: String(res.headers['x-subject-token'] ?? '') };
  };

  return {
    cloud,
    config,
    request,
    login,
    async adminToken() {
      if (cachedAdmin) return cachedAdmin;
      const res = await login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
      if (res.status !== 201) throw new Error(`admin login failed: ${res.status} ${res.text}`);
      cachedAdmin = res.token;
      return cachedAdmin;
    },
    async close() {
      try {
        await cloud.close();
        if (dropDatabase) await dropDatabase();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
