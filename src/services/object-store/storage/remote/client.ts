import http, { type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ListingQuery } from '../types.js';
import type { RowPage } from '../local/db.js';
import type { AsyncPending, ContainerServer, DatabaseServer, DbKind, DbLocation, DbShapes, ObjectServer, ReplicaWriter, StorageDevice } from '../local/device.js';
import { CorruptObject, DeviceUnavailable, StaleWrite, type DataMeta, type OnDiskState } from '../local/diskfile.js';
import { COMMIT_TRAILER, encodeCommit, ERROR_HEADER, KEY_HEADER, PROTOCOL_PREFIX } from './protocol.js';

export interface RemoteOptions {
  /** Shared secret of the storage agents ('' when they listen on loopback without one). */
  key: string;
  /** Longest wait for a connection or for progress on one, in ms. */
  timeoutMs: number;
  /** After a node fails to answer, it is skipped for this long (Swift's error suppression), in ms. */
  suppressMs: number;
}

/** One storage node (ip:port): its connection pool and whether it recently failed. */
export class RemoteNode {
  // Idle pooled sockets are dropped after 30 s, well before the agent's 60 s keep-alive
  // timeout, so a request never races the server closing the socket it reuses.
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 30_000 });
  private downUntil = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly opts: RemoteOptions,
  ) {}

  usable(): boolean {
    return Date.now() >= this.downUntil;
  }

  markDown(): void {
    this.downUntil = Date.now() + this.opts.suppressMs;
  }

  close(): void {
    this.agent.destroy();
  }
}

type Body = Readable | Buffer | string;

const CLIENT_TIMEOUT_MS = 60_000;

interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: Body;
}

function pathOf(device: string, parts: Array<string | number>, query?: CallOptions['query']): string {
  let path = `${PROTOCOL_PREFIX}/${encodeURIComponent(device)}/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== false) q.set(k, v === true ? '' : String(v));
  const qs = q.toString();
  if (qs) path += `?${qs}`;
  return path;
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A device of a `nubes agent storage` node, reached over HTTP. Network failures and 507s
 * become DeviceUnavailable (the cluster then counts the replica as missing and uses handoffs);
 * 409 corrupt becomes CorruptObject; 404 answers are null/empty results.
 */
export class RemoteDevice implements StorageDevice, ObjectServer {
  readonly objects: ObjectServer = this;
  readonly containers: ContainerServer;
  readonly accounts: DatabaseServer<'accounts'>;

  constructor(
    readonly id: number,
    readonly node: RemoteNode,
    readonly device: string,
  ) {
    this.containers = new RemoteContainers(this, 'containers');
    this.accounts = new RemoteDatabases(this, 'accounts');
  }

  get label(): string {
    return `${this.node.host}:${this.node.port}/${this.device}`;
  }

  usable(): boolean {
    return this.node.usable();
  }

  private unavailable(err: unknown): DeviceUnavailable {
    this.node.markDown();
    return new DeviceUnavailable(`${this.label}: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Starts a request; resolves once the node answered, with the live response. */
  request(method: string, parts: Array<string | number>, opts: CallOptions = {}, extraHeaders: Record<string, string> = {}): http.ClientRequest {
    const headers: Record<string, string> = { ...extraHeaders };
    if (this.node.opts.key) headers[KEY_HEADER] = this.node.opts.key;
    let payload: Buffer | string | undefined;
    if (opts.json !== undefined) {
      payload = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    } else if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) payload = opts.body;
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    const req = http.request({ host: this.node.host, port: this.node.port, method, path: pathOf(this.device, parts, opts.query), headers, agent: this.node.agent });
    req.setTimeout(this.node.opts.timeoutMs, () => req.destroy(new Error(`no answer in ${this.node.opts.timeoutMs} ms`)));
    if (payload !== undefined) req.end(payload);
    else if (opts.body instanceof Readable) opts.body.pipe(req);
    return req;
  }

  /** Sends a request and checks the answer: the response on 2xx, null on 404. */
  async call(method: string, parts: Array<string | number>, opts: CallOptions = {}): Promise<IncomingMessage | null> {
    const req = this.request(method, parts, opts);
    if (opts.json === undefined && opts.body === undefined) req.end();
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.once('response', resolve);
        req.once('error', reject);
        if (opts.body instanceof Readable) opts.body.once('error', (e) => req.destroy(e));
      });
    } catch (err) {
      throw this.unavailable(err);
    }
    return this.check(res);
  }

  async check(res: IncomingMessage): Promise<IncomingMessage | null> {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const text = await readBody(res).catch(() => '');
    if (status === 404) return null;
    const kind = res.headers[ERROR_HEADER];
    if (status === 507 || kind === 'device_unavailable') throw new DeviceUnavailable(`${this.label}: ${text}`);
    if (kind === 'corrupt') throw new CorruptObject(`${this.label}: ${text}`);
    if (kind === 'stale') throw new StaleWrite(`${this.label}: ${text}`);
    throw new Error(`storage node ${this.label} answered ${status}: ${text}`);
  }

  async json<T>(method: string, parts: Array<string | number>, opts: CallOptions = {}): Promise<T | null> {
    const res = await this.call(method, parts, opts);
    if (!res) return null;
    const text = await readBody(res);
    return text === '' ? (undefined as T) : (JSON.parse(text) as T);
  }

  // ---- ObjectServer ----------------------------------------------------------------------

  async readState(part: number, hash: string): Promise<OnDiskState | null> {
    return this.json<OnDiskState>('GET', ['objects', part, hash]);
  }

  async openData(part: number, hash: string, dataName: string, size: number, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.call('GET', ['objects', part, hash, dataName], { query: { size, start: range?.start, end: range?.end } });
    if (!res) throw new DeviceUnavailable(`${this.label}: ${dataName} vanished`);
    return res;
  }

  async createWriter(part: number, hash: string): Promise<ReplicaWriter> {
    return RemoteWriter.open(this, part, hash);
  }

  async putFile(part: number, hash: string, name: string, body: Body): Promise<void> {
    await this.call('PUT', ['objects', part, hash, name], { body });
  }

  async readFile(part: number, hash: string, name: string): Promise<Readable> {
    const res = await this.call('GET', ['objects', part, hash, name]);
    if (!res) throw new DeviceUnavailable(`${this.label}: ${name} vanished`);
    return res;
  }

  async listFiles(part: number, hash: string): Promise<string[]> {
    return (await this.json<{ files: string[] }>('GET', ['objects', part, hash], { query: { files: true } }))?.files ?? [];
  }

  async quarantine(part: number, hash: string): Promise<void> {
    await this.call('POST', ['objects', part, hash, 'quarantine']);
  }

  async partitions(): Promise<number[]> {
    return (await this.json<{ partitions: number[] }>('GET', ['objects']))?.partitions ?? [];
  }

  async suffixHashes(part: number): Promise<Map<string, string>> {
    return new Map(Object.entries((await this.json<{ suffixes: Record<string, string> }>('GET', ['objects', part]))?.suffixes ?? {}));
  }

  async hashesIn(part: number, suffix?: string): Promise<Array<{ suffix: string; hash: string }>> {
    return (await this.json<{ hashes: Array<{ suffix: string; hash: string }> }>('GET', ['objects', part], { query: { hashes: true, suffix } }))?.hashes ?? [];
  }

  async removePartition(part: number): Promise<void> {
    await this.call('DELETE', ['objects', part]);
  }

  async saveAsyncPending(pending: AsyncPending): Promise<string> {
    const saved = await this.json<{ id: string }>('PUT', ['async-pending'], { json: pending });
    if (!saved) throw new DeviceUnavailable(`${this.label}: async pending not saved`);
    return saved.id;
  }

  async asyncPendings(limit: number): Promise<Array<{ id: string; pending: AsyncPending }>> {
    return (await this.json<{ pendings: Array<{ id: string; pending: AsyncPending }> }>('GET', ['async-pending'], { query: { limit } }))?.pendings ?? [];
  }

  async dropAsyncPending(id: string): Promise<void> {
    await this.call('DELETE', ['async-pending', ...id.split('/')]);
  }
}

/** The account or container server of a remote device: /v1/<device>/<kind>/<part>/<hash>[/...]. */
class RemoteDatabases<K extends DbKind> implements DatabaseServer<K> {
  constructor(
    protected readonly dev: RemoteDevice,
    private readonly kind: K,
  ) {}

  protected at(at: DbLocation, ...rest: string[]): Array<string | number> {
    return [this.kind, at.part, at.hash, ...rest];
  }

  stat(at: DbLocation): Promise<DbShapes[K]['stat'] | null> {
    return this.dev.json('GET', this.at(at));
  }

  async create(at: DbLocation, init: DbShapes[K]['init']): Promise<void> {
    await this.dev.call('PUT', this.at(at), { json: init });
  }

  async update(at: DbLocation, set: Record<string, string>, putTimestamp?: string): Promise<boolean> {
    return (await this.dev.call('POST', this.at(at), { json: { set, putTimestamp } })) !== null;
  }

  async remove(at: DbLocation): Promise<void> {
    await this.dev.call('DELETE', this.at(at));
  }

  list(at: DbLocation, query: ListingQuery): Promise<Array<DbShapes[K]['listing']> | null> {
    const { prefix, delimiter, marker, endMarker, limit, reverse } = query;
    return this.dev.json('GET', this.at(at, 'listing'), { query: { prefix, delimiter, marker, end_marker: endMarker, limit, reverse } });
  }

  rows(at: DbLocation, page: RowPage): Promise<Array<DbShapes[K]['row']> | null> {
    return this.dev.json('GET', this.at(at, 'rows'), { query: { marker: page.marker, limit: page.limit } });
  }

  async merge(at: DbLocation, rows: Array<DbShapes[K]['row']>): Promise<number | null> {
    return (await this.dev.json<{ changed: number }>('POST', this.at(at, 'rows'), { json: rows }))?.changed ?? null;
  }

  async syncPoint(at: DbLocation): Promise<string | null> {
    return (await this.dev.json<{ syncPoint: string }>('GET', this.at(at, 'sync-point')))?.syncPoint ?? null;
  }

  async held(): Promise<DbLocation[]> {
    return (await this.dev.json<{ held: DbLocation[] }>('GET', [this.kind]))?.held ?? [];
  }
}

class RemoteContainers extends RemoteDatabases<'containers'> implements ContainerServer {
  async setContentType(at: DbLocation, name: string, contentType: string): Promise<void> {
    await this.dev.call('POST', this.at(at, 'content-type'), { json: { name, contentType } });
  }
}

/**
 * One replica's upload to a storage node: a chunked PUT sent with `Expect: 100-continue` (the
 * node opens its temp file before saying "continue", so an unusable device is known before
 * any byte is sent), written with back-pressure, and committed by a trailer carrying the
 * footer metadata. Ending without the trailer, or dropping the connection, makes the node
 * throw the temp file away.
 */
class RemoteWriter implements ReplicaWriter {
  private failure: Error | undefined;
  private readonly answered: Promise<IncomingMessage>;

  private constructor(
    private readonly dev: RemoteDevice,
    private readonly req: http.ClientRequest,
  ) {
    this.answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    this.answered.then(
      (res) => (this.failure ??= new Error(`${dev.label} answered ${res.statusCode} before the upload ended`)),
      (err: unknown) => (this.failure ??= err instanceof Error ? err : new Error(String(err))),
    );
  }

  static async open(dev: RemoteDevice, part: number, hash: string): Promise<RemoteWriter> {
    const req = dev.request('PUT', ['objects', part, hash], {}, { expect: '100-continue', 'transfer-encoding': 'chunked', trailer: COMMIT_TRAILER });
    const writer = new RemoteWriter(dev, req);
    // The body arrives at the client's pace: allow pauses as long as Swift's client_timeout.
    req.setTimeout(Math.max(dev.node.opts.timeoutMs, CLIENT_TIMEOUT_MS), () => req.destroy(new Error('upload stalled')));
    req.flushHeaders();
    try {
      await new Promise<void>((resolve, reject) => {
        req.once('continue', resolve);
        writer.answered.then(
          async (res) => {
            await dev.check(res).catch(reject);
            reject(new DeviceUnavailable(`${dev.label} refused the upload (${res.statusCode})`));
          },
          reject,
        );
      });
    } catch (err) {
      req.destroy();
      throw err instanceof DeviceUnavailable ? err : new DeviceUnavailable(`${dev.label}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return writer;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.req.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => (this.failure ? reject(this.failure) : resolve());
      this.req.once('drain', done);
      this.answered.then(done, done);
    });
  }

  async commit(meta: DataMeta): Promise<void> {
    if (this.failure) throw this.failure;
    this.req.addTrailers({ [COMMIT_TRAILER]: encodeCommit(meta) });
    this.req.end();
    const res = await this.answered;
    if (res.statusCode !== 201) {
      await this.dev.check(res);
      throw new Error(`${this.dev.label} answered ${res.statusCode} to the commit`);
    }
    res.resume();
  }

  async abort(): Promise<void> {
    this.req.destroy();
  }
}
