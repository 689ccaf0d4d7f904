import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { MemoryCluster } from '../../../src/services/object-store/storage/memory.js';
import { registerS3Routes, type S3Deps, type S3Principal } from '../../../src/services/object-store/s3/index.js';
import {
  awsUriEncode,
  canonicalRequestV4,
  sha256Hex,
  signingKeyV4,
  signV2,
  signV4,
  stringToSignV2,
  stringToSignV4,
  UNSIGNED_PAYLOAD,
} from '../../../src/services/object-store/s3/sigv4.js';

export const MOUNT = '/object-store/s3';
export const ACCESS = 'AKIDTESTACCESS';
export const SECRET = 'test-secret/key+value';

export interface S3Response {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  raw: Buffer;
}

export interface S3TestRig {
  app: FastifyInstance;
  cluster: MemoryCluster;
  principals: Map<string, S3Principal>;
  /** A SigV4-signed request; path is relative to the mount ("/bucket/key"), unencoded. */
  req(method: string, path: string, opts?: ReqOptions): Promise<S3Response>;
  close(): Promise<void>;
}

export interface ReqOptions {
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: Buffer | string;
  access?: string;
  secret?: string;
  /** 'sha256' (default), 'unsigned', 'none' (no Authorization at all) or 'v2'. */
  sign?: 'sha256' | 'unsigned' | 'none' | 'v2';
  /** Declared x-amz-content-sha256 (overrides the real digest) to test mismatches. */
  declaredSha256?: string;
  date?: Date;
}

export const amzDate = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
export const encodePath = (path: string): string => path.split('/').map((s) => awsUriEncode(s, false)).join('/');

export function queryString(query: [string, string][]): string {
  return query.map(([k, v]) => (v === '' && !k.startsWith('X-Amz') ? awsUriEncode(k, false) : `${awsUriEncode(k, false)}=${awsUriEncode(v, false)}`)).join('&');
}

/** Signs like an AWS SDK: canonical path = the encoded path, host + x-amz-* signed. */
export function signRequest(method: string, rawPath: string, query: [string, string][], headers: Record<string, string>, payload: string, secret: string, access: string, date: Date): string {
  const day = amzDate(date).slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  const signed = Object.keys(lower).filter((k) => k === 'host' || k.startsWith('x-amz-') || k === 'content-md5' || k === 'content-type').sort();
  const canonical = canonicalRequestV4({ method, rawPath, query, headers: lower }, signed, payload);
  const signature = signV4(signingKeyV4(secret, day, 'us-east-1', 's3'), stringToSignV4(amzDate(date), scope, canonical));
  return `AWS4-HMAC-SHA256 Credential=${access}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}

/** A presigned GET URL (path relative to the app root). */
export function presign(method: string, path: string, expires: number, date = new Date(), secret = SECRET): string {
  const rawPath = MOUNT + encodePath(path);
  const day = amzDate(date).slice(0, 8);
  const query: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${ACCESS}/${day}/us-east-1/s3/aws4_request`],
    ['X-Amz-Date', amzDate(date)],
    ['X-Amz-Expires', String(expires)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const canonical = canonicalRequestV4({ method, rawPath, query, headers: { host: 'localhost:80' } }, ['host'], UNSIGNED_PAYLOAD);
  const sig = signV4(signingKeyV4(secret, day, 'us-east-1', 's3'), stringToSignV4(amzDate(date), `${day}/us-east-1/s3/aws4_request`, canonical));
  return `${rawPath}?${queryString([...query, ['X-Amz-Signature', sig]])}`;
}

export async function startS3Rig(overrides: Partial<S3Deps> = {}): Promise<S3TestRig> {
  const cluster = new MemoryCluster();
  const principals = new Map<string, S3Principal>([[ACCESS, { userId: 'u1', projectId: 'p1', roles: ['member'], secret: SECRET }]]);
  const app = Fastify();
  await registerS3Routes(app, {
    cluster,
    lookupAccessKey: async (access) => principals.get(access) ?? null,
    prefix: MOUNT,
    ...overrides,
  });
  await app.ready();

  async function req(method: string, path: string, opts: ReqOptions = {}): Promise<S3Response> {
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const query = opts.query ?? [];
    const rawPath = MOUNT + encodePath(path);
    const date = opts.date ?? new Date();
    const headers: Record<string, string> = { host: 'localhost:80', ...opts.headers };
    const mode = opts.sign ?? 'sha256';
    if (mode === 'sha256' || mode === 'unsigned') {
      const payload = mode === 'unsigned' ? UNSIGNED_PAYLOAD : sha256Hex(body ?? Buffer.alloc(0));
      headers['x-amz-content-sha256'] = opts.declaredSha256 ?? payload;
      headers['x-amz-date'] = amzDate(date);
      headers.authorization = signRequest(method, rawPath, query, headers, headers['x-amz-content-sha256'], opts.secret ?? SECRET, opts.access ?? ACCESS, date);
    } else if (mode === 'v2') {
      headers.date = date.toUTCString();
      const lower: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
      const sts = stringToSignV2({ method, rawPath, query, headers: lower }, rawPath);
      headers.authorization = `AWS ${opts.access ?? ACCESS}:${signV2(opts.secret ?? SECRET, sts)}`;
    }
    const qs = queryString(query);
    const res = await app.inject({ method: method as 'GET', url: qs ? `${rawPath}?${qs}` : rawPath, headers, payload: body });
    return { status: res.statusCode, headers: res.headers, text: res.body, raw: res.rawPayload };
  }

  return { app, cluster, principals, req, close: () => app.close() };
}

export const md5b64 = (b: Buffer | string): string => createHash('md5').update(b).digest('base64');
export const md5hex = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

/** The text of every <tag>…</tag> in an XML document. */
export function tags(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}
