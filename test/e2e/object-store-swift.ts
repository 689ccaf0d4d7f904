import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { RunningServer } from '../helpers/server.js';

/** Helpers of the object-store e2e tests: a Swift session against a real `nubes start`. */

export interface SwiftSession {
  token: string;
  /** …/object-store/v1/AUTH_<project> */
  storageUrl: string;
  account: string;
}

export async function swiftSession(server: RunningServer): Promise<SwiftSession> {
  const res = await fetch(`${server.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: server.adminPassword } } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } }),
  });
  if (res.status !== 201) throw new Error(`token: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: { project: { id: string } } };
  const account = `AUTH_${body.token.project.id}`;
  return { token: res.headers.get('x-subject-token')!, storageUrl: `${server.url}/object-store/v1/${account}`, account };
}

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** Every file under `dir` whose name matches. */
export function filesUnder(dir: string, match: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (match.test(e.name)) out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Polls `check` until it returns true or `ms` pass; the last failure message explains a timeout. */
export async function eventually(what: string, ms: number, check: () => Promise<boolean | string>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: boolean | string = false;
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen in ${ms} ms${typeof last === 'string' ? `: ${last}` : ''}`);
}

/**
 * A PUT whose body is streamed in `chunk`-sized pieces with back-pressure, `pauseMs` apart, so
 * many uploads are in flight at once; with `chunked` no Content-Length is sent.
 */
export function slowPut(url: string, token: string, body: Buffer, opts: { chunk: number; pauseMs: number; chunked: boolean }): Promise<{ status: number; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = { 'x-auth-token': token, 'content-type': 'application/octet-stream' };
    if (!opts.chunked) headers['content-length'] = String(body.length);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
      res.on('error', reject);
    });
    req.on('error', reject);
    void (async () => {
      for (let off = 0; off < body.length; off += opts.chunk) {
        if (req.destroyed) return;
        if (!req.write(body.subarray(off, off + opts.chunk))) await new Promise((r) => req.once('drain', r));
        if (opts.pauseMs > 0) await new Promise((r) => setTimeout(r, opts.pauseMs));
      }
      req.end();
    })().catch(reject);
  });
}
