import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';

export interface HttpRequest {
  method: string;
  /** Absolute path on this cloud, with its query (`/object-store/v1/AUTH_x/c/o?multipart-manifest=put`). */
  path: string;
  headers?: Record<string, string>;
  body?: Readable | Buffer | string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Streamed: read it, or `discard()` it, so the answering handler can finish. */
  body: Readable;
}

export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

/**
 * Calls this cloud's own HTTP API in-process through Fastify's inject(): the request runs the
 * whole pipeline a socket request runs (routing, hooks, token validation, policy, the Swift
 * middleware, fault rendering), only without a TCP connection, so it also works when nothing
 * listens (tests) and never leaves the process. Bodies stream both ways (payloadAsStream).
 */
export class InProcessHttp {
  private app: FastifyInstance | null = null;

  /** Called once the routes are registered; any Fastify instance of the app routes the whole cloud. */
  attach(app: FastifyInstance): void {
    this.app = app;
  }

  get ready(): boolean {
    return this.app !== null;
  }

  readonly request: HttpTransport = async (request) => {
    const app = this.app;
    if (!app) throw new Error('in-process HTTP used before the routes were registered');
    const streamed = request.body instanceof Readable;
    const headers: Record<string, string> = { ...request.headers };
    if (streamed && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
    const res = await app.inject({
      method: request.method as 'GET',
      url: request.path,
      headers,
      ...(request.body !== undefined ? { payload: request.body } : {}),
      payloadAsStream: true,
    });
    return { status: res.statusCode, headers: res.headers as HttpResponse['headers'], body: res.stream() };
  };
}

export async function readBody(res: HttpResponse, limit = 16 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw new Error(`response body larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

export async function readJson<T>(res: HttpResponse): Promise<T> {
  return JSON.parse((await readBody(res)).toString('utf8')) as T;
}

/** Reads and drops a body nobody needs. */
export async function discard(res: HttpResponse): Promise<void> {
  for await (const _chunk of res.body) {
    // drained
  }
}

export function headerOf(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
