import { startTestCloud, type TestCloud } from '../../helpers/cloud.js';

export interface SwiftResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  raw: Buffer;
}

export interface SwiftCloud {
  t: TestCloud;
  token: string;
  projectId: string;
  /** /object-store/v1/AUTH_<admin project> */
  base: string;
  req(method: string, path: string, opts?: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null }): Promise<SwiftResponse>;
  close(): Promise<void>;
}

/** A test cloud plus a Swift client for the admin project's account. */
export async function startSwift(set: Record<string, unknown> = {}): Promise<SwiftCloud> {
  const t = await startTestCloud({ set });
  const token = await t.adminToken();
  const res = await t.request('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } });
  const projectId = String(res.json.token.project.id);
  const base = `/object-store/v1/AUTH_${projectId}`;
  return {
    t,
    token,
    projectId,
    base,
    async req(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const tok = opts.token === undefined ? token : opts.token;
      if (tok) headers['x-auth-token'] = tok;
      const url = path.startsWith('/object-store') ? path : base + path;
      const r = await t.cloud.app.inject({ method: method as 'GET', url, headers, ...(opts.body !== undefined ? { payload: opts.body } : {}) });
      return { status: r.statusCode, headers: r.headers as Record<string, string | string[] | undefined>, text: r.body, raw: r.rawPayload };
    },
    close: () => t.close(),
  };
}
