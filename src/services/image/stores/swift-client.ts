import type { Readable } from 'node:stream';
import { discard, headerOf, readBody, readJson, type HttpResponse, type HttpTransport } from './in-process-http.js';

/** Who the swift store acts as: glance_store's single-tenant swift_store_user / swift_store_key. */
export interface SwiftCredentials {
  user: string;
  project: string;
  domain: string;
  password(): Promise<string>;
  /**
   * Creates the user (or resets its password) when logging in fails; absent when the operator
   * manages the account. Runs with the bootstrap admin, as DevStack does when it installs Glance.
   */
  provision?(password: string): Promise<void>;
}

interface Session {
  token: string;
  /** Path of the account on this cloud: /object-store/v1/AUTH_<project>. */
  account: string;
  expiresAt: number;
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; url: string }[];
}

interface TokenBody {
  token: { expires_at: string; project?: { id: string }; catalog?: CatalogEntry[] };
}

export class SwiftError extends Error {
  override readonly name = 'SwiftError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Logs in with a password through the Identity API; null on 401 (wrong password or no such user). */
export async function passwordLogin(http: HttpTransport, user: string, domain: string, password: string, project: string): Promise<(TokenBody & { subjectToken: string }) | null> {
  const res = await http({
    method: 'POST',
    path: '/identity/v3/auth/tokens',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: domain }, password } } },
        scope: { project: { name: project, domain: { id: domain } } },
      },
    }),
  });
  if (res.status === 401) {
    await discard(res);
    return null;
  }
  if (res.status !== 201) throw new SwiftError(res.status, `identity login of ${user} failed: ${res.status} ${(await readBody(res)).toString()}`);
  return { ...(await readJson<TokenBody>(res)), subjectToken: headerOf(res, 'x-subject-token') ?? '' };
}

/**
 * A Swift API client for one service account, talking to the cloud's own object-store API. It
 * keeps a token until shortly before it expires and logs in again once when Swift answers 401.
 */
export class SwiftClient {
  private session: Promise<Session> | null = null;

  constructor(private readonly http: HttpTransport, private readonly credentials: SwiftCredentials, private readonly now: () => number = Date.now) {}

  private async login(): Promise<Session> {
    const c = this.credentials;
    const password = await c.password();
    let body = await passwordLogin(this.http, c.user, c.domain, password, c.project);
    if (!body && c.provision) {
      await c.provision(password);
      body = await passwordLogin(this.http, c.user, c.domain, password, c.project);
    }
    if (!body) throw new SwiftError(401, `the swift store user ${c.user} could not log in`);
    const projectId = body.token.project?.id ?? '';
    const endpoint = body.token.catalog?.find((s) => s.type === 'object-store')?.endpoints.find((e) => e.interface === 'public');
    // The catalog names the account as any client would find it; only its path matters in-process.
    const account = endpoint ? new URL(endpoint.url).pathname.replace(/\/+$/, '') : `/object-store/v1/AUTH_${projectId}`;
    return { token: body.subjectToken, account, expiresAt: Date.parse(body.token.expires_at) };
  }

  private async current(): Promise<Session> {
    if (this.session) {
      const session = await this.session.catch(() => null);
      if (session && session.expiresAt - this.now() > 60_000) return session;
    }
    this.session = this.login();
    this.session.catch(() => {
      this.session = null;
    });
    return this.session;
  }

  /**
   * One request on the account (`path` is relative to it: `/container/object?query`). Bodies
   * that are streams cannot be replayed, so only requests without one retry after a 401.
   */
  async request(method: string, path: string, opts: { headers?: Record<string, string>; body?: Readable | Buffer | string } = {}): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.current();
      const res = await this.http({ method, path: session.account + path, headers: { ...opts.headers, 'x-auth-token': session.token }, ...(opts.body !== undefined ? { body: opts.body } : {}) });
      const replayable = opts.body === undefined || typeof opts.body === 'string' || Buffer.isBuffer(opts.body);
      if (res.status !== 401 || attempt > 0 || !replayable) return res;
      await discard(res);
      this.session = null;
    }
  }

  /** A request whose answer must be 2xx (or one of `ok`); anything else is a SwiftError with the status. */
  async expect(method: string, path: string, ok: number[], opts: { headers?: Record<string, string>; body?: Readable | Buffer | string } = {}): Promise<HttpResponse> {
    const res = await this.request(method, path, opts);
    if ((res.status >= 200 && res.status < 300) || ok.includes(res.status)) return res;
    const text = (await readBody(res).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 300);
    throw new SwiftError(res.status, `swift ${method} ${path}: ${res.status} ${text}`);
  }
}

/**
 * Creates the swift store's service user through the Identity API, logged in as the bootstrap
 * admin: the user in the service project with the member role (an operator role of Swift's
 * keystoneauth, which makes it the owner of AUTH_<service project>), or resets its password.
 */
export async function provisionServiceUser(http: HttpTransport, admin: { password: string; domain: string }, account: { user: string; project: string; domain: string; password: string }): Promise<void> {
  const login = await passwordLogin(http, 'admin', admin.domain, admin.password, 'admin');
  if (!login) throw new SwiftError(401, 'the bootstrap admin could not log in to provision the swift store user');
  const call = async (method: string, path: string, body?: unknown): Promise<HttpResponse> =>
    http({ method, path: `/identity/v3${path}`, headers: { 'x-auth-token': login.subjectToken, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const json = async <T>(res: HttpResponse, what: string): Promise<T> => {
    if (res.status >= 300) throw new SwiftError(res.status, `${what}: ${res.status} ${(await readBody(res)).toString()}`);
    return readJson<T>(res);
  };
  const domain = encodeURIComponent(account.domain);
  const { projects } = await json<{ projects: { id: string }[] }>(await call('GET', `/projects?name=${encodeURIComponent(account.project)}&domain_id=${domain}`), 'find project');
  const project = projects[0];
  if (!project) throw new SwiftError(404, `project ${account.project} does not exist`);
  const { users } = await json<{ users: { id: string }[] }>(await call('GET', `/users?name=${encodeURIComponent(account.user)}&domain_id=${domain}`), 'find user');
  let userId = users[0]?.id;
  if (userId) {
    await json(await call('PATCH', `/users/${userId}`, { user: { password: account.password } }), 'reset password');
  } else {
    const created = await json<{ user: { id: string } }>(
      await call('POST', '/users', { user: { name: account.user, domain_id: account.domain, password: account.password, default_project_id: project.id, description: 'Image service (swift store)' } }),
      'create user',
    );
    userId = created.user.id;
  }
  const { roles } = await json<{ roles: { id: string }[] }>(await call('GET', '/roles?name=member'), 'find role');
  const role = roles[0];
  if (!role) throw new SwiftError(404, 'role member does not exist');
  const grant = await call('PUT', `/projects/${project.id}/users/${userId}/roles/${role.id}`);
  if (grant.status >= 300) throw new SwiftError(grant.status, `grant member: ${grant.status}`);
  await discard(grant);
}
