import { existsSync, readdirSync, statSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ListingQuery } from '../types.js';
import { DbCache } from '../local/db.js';
import type { AsyncPending, DatabaseServer, DbKind, DbLocation, DbShapes } from '../local/device.js';
import { ASYNC_PENDING_ID_RE, CorruptObject, DeviceUnavailable, OBJECT_FILE_RE, StaleWrite, type DataMeta } from '../local/diskfile.js';
import { LocalDevice } from '../local/local-device.js';
import { COMMIT_TRAILER, decodeCommit, ERROR_HEADER, isLoopback, KEY_HEADER, keyMatches, PROTOCOL_PREFIX, WIRE_STATUS, type WireError } from './protocol.js';

export interface StorageServerOptions {
  /** The directory whose subdirectories are the devices served (Swift's `devices = /srv/node`). */
  devicesDir: string;
  /** Shared secret; '' accepts only loopback peers. */
  key: string;
  /** Largest JSON request body, bytes. */
  maxJsonBytes?: number;
}

class WireFault extends Error {
  constructor(
    readonly kind: WireError,
    message: string,
  ) {
    super(message);
  }
}

const DEVICE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HASH_RE = /^[0-9a-f]{32}$/;

function int(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw new WireFault('bad_request', `bad ${what}`);
  return Number(text);
}

function optionalInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : int(v, name);
}

function location(part: string | undefined, hash: string | undefined): DbLocation {
  if (hash === undefined || !HASH_RE.test(hash)) throw new WireFault('bad_request', 'bad hash');
  return { part: int(part, 'partition'), hash };
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0' }).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }).end(text);
}

/**
 * The HTTP side of `nubes agent storage`: the object, container and account servers of every
 * device under `devicesDir`, behind the shared key. Only what the protocol names is reachable:
 * device, partition, hash and file names are checked against strict patterns before any path
 * is built, so no request touches anything outside a device's own directories.
 */
export class StorageServer {
  private readonly dbs = new DbCache();
  private readonly devices = new Map<string, LocalDevice>();
  readonly http: http.Server;

  constructor(private readonly opts: StorageServerOptions) {
    this.http = http.createServer((req, res) => void this.handle(req, res));
    this.http.keepAliveTimeout = 60_000;
    // Uploads ask first: the temp file is opened before the proxy sends a single byte.
    this.http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res, true));
  }

  /** Every device directory served here. */
  localDevices(): LocalDevice[] {
    for (const name of this.deviceNames()) this.device(name);
    return [...this.devices.values()];
  }

  private deviceNames(): string[] {
    try {
      return readdirSync(this.opts.devicesDir).filter((n) => DEVICE_RE.test(n) && statSync(join(this.opts.devicesDir, n)).isDirectory());
    } catch {
      return [];
    }
  }

  private device(name: string): LocalDevice {
    if (!DEVICE_RE.test(name)) throw new WireFault('bad_request', 'bad device name');
    let dev = this.devices.get(name);
    if (!dev) {
      const root = join(this.opts.devicesDir, name);
      // Swift's mount check: a device directory that isn't there is unavailable, never created.
      if (!existsSync(root)) throw new DeviceUnavailable(`no device ${name}`);
      dev = new LocalDevice(this.devices.size, root, this.dbs);
      this.devices.set(name, dev);
    }
    return dev;
  }

  close(): void {
    this.dbs.closeAll();
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.opts.key) return keyMatches(req.headers[KEY_HEADER] as string | undefined, this.opts.key);
    return isLoopback(req.socket.remoteAddress ?? '');
  }

  private async handle(req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
    try {
      if (!this.authorized(req)) throw new WireFault('unauthorized', 'bad or missing storage key');
      const url = new URL(req.url ?? '/', 'http://agent');
      if (!url.pathname.startsWith(`${PROTOCOL_PREFIX}/`)) throw new WireFault('bad_request', 'unknown path');
      const segments = url.pathname.slice(PROTOCOL_PREFIX.length + 1).split('/').map((s) => decodeURIComponent(s));
      const [deviceName, area, ...rest] = segments;
      const dev = this.device(deviceName ?? '');
      const isUpload = req.method === 'PUT' && area === 'objects' && rest.length === 2;
      if (expectsContinue && !isUpload) res.writeContinue();
      if (area === 'objects') await this.objects(dev, req, res, rest, url.searchParams, expectsContinue);
      else if (area === 'containers' || area === 'accounts') await this.databases(dev, area, req, res, rest, url.searchParams);
      else if (area === 'async-pending') await this.asyncPending(dev, req, res, rest, url.searchParams);
      else throw new WireFault('bad_request', 'unknown resource');
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const kind: WireError = err instanceof WireFault ? err.kind : err instanceof DeviceUnavailable ? 'device_unavailable' : err instanceof CorruptObject ? 'corrupt' : err instanceof StaleWrite ? 'stale' : 'internal';
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = err instanceof Error ? err.message : String(err);
    res.writeHead(WIRE_STATUS[kind], { [ERROR_HEADER]: kind, 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(text)), connection: 'close' }).end(text);
    // An unread request body must not be taken for the next request on this connection.
    req.resume();
  }

  private async readJson<T>(req: IncomingMessage): Promise<T> {
    const limit = this.opts.maxJsonBytes ?? 64 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > limit) throw new WireFault('bad_request', 'body too large');
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch {
      throw new WireFault('bad_request', 'body is not JSON');
    }
  }

  private async objects(dev: LocalDevice, req: IncomingMessage, res: ServerResponse, rest: string[], q: URLSearchParams, expectsContinue: boolean): Promise<void> {
    const o = dev.objects;
    const method = req.method ?? 'GET';
    const [partText, hash, file] = rest;
    if (rest.length === 0 && method === 'GET') return reply(res, 200, { partitions: await o.partitions() });
    const part = int(partText, 'partition');
    if (rest.length === 1) {
      if (method === 'DELETE') return (await o.removePartition(part), reply(res, 204));
      if (method !== 'GET') throw new WireFault('bad_request', 'method not allowed');
      if (q.has('hashes')) return reply(res, 200, { hashes: await o.hashesIn(part, q.get('suffix') || undefined) });
      return reply(res, 200, { suffixes: Object.fromEntries(await o.suffixHashes(part)) });
    }
    const at = location(partText, hash);
    if (rest.length === 2) {
      if (method === 'PUT') return this.upload(dev, req, res, at, expectsContinue);
      if (method !== 'GET') throw new WireFault('bad_request', 'method not allowed');
      if (q.has('files')) return reply(res, 200, { files: await o.listFiles(part, at.hash) });
      const state = await o.readState(part, at.hash);
      return state ? reply(res, 200, state) : reply(res, 404);
    }
    if (rest.length === 3 && file === 'quarantine' && method === 'POST') return (await o.quarantine(part, at.hash), reply(res, 204));
    if (rest.length !== 3 || file === undefined || !OBJECT_FILE_RE.test(file)) throw new WireFault('bad_request', 'bad file name');
    if (method === 'PUT') return (await o.putFile(part, at.hash, file, req), reply(res, 201));
    if (method !== 'GET') throw new WireFault('bad_request', 'method not allowed');
    const size = optionalInt(q, 'size');
    let body: Readable;
    try {
      body =
        size === undefined
          ? await o.readFile(part, at.hash, file)
          : await o.openData(part, at.hash, file, size, q.has('start') ? { start: optionalInt(q, 'start') ?? 0, end: optionalInt(q, 'end') ?? size } : undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reply(res, 404);
      throw err;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    await pipeline(body, res).catch(() => res.destroy());
  }

  /** PUT of an object's bytes; committed only by the trailer, after the last byte. */
  private async upload(dev: LocalDevice, req: IncomingMessage, res: ServerResponse, at: DbLocation, expectsContinue: boolean): Promise<void> {
    const writer = await dev.objects.createWriter(at.part, at.hash);
    try {
      if (expectsContinue) res.writeContinue();
      for await (const chunk of req) await writer.write(chunk as Buffer);
      const trailer = req.trailers[COMMIT_TRAILER];
      if (!trailer) throw new WireFault('bad_request', 'the upload ended without its commit trailer');
      await writer.commit(decodeCommit(trailer) as DataMeta);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    reply(res, 201);
  }

  private async databases<K extends DbKind>(dev: LocalDevice, kind: K, req: IncomingMessage, res: ServerResponse, rest: string[], q: URLSearchParams): Promise<void> {
    const server = (kind === 'accounts' ? dev.accounts : dev.containers) as unknown as DatabaseServer<K>;
    const method = req.method ?? 'GET';
    if (rest.length === 0 && method === 'GET') return reply(res, 200, { held: await server.held() });
    const at = location(rest[0], rest[1]);
    const sub = rest[2];
    const found = (v: unknown) => (v === null || v === false ? reply(res, 404) : reply(res, 200, v));
    if (sub === undefined) {
      if (method === 'GET') return found(await server.stat(at));
      if (method === 'PUT') return (await server.create(at, await this.readJson<DbShapes[K]['init']>(req)), reply(res, 201));
      if (method === 'POST') {
        const body = await this.readJson<{ set: Record<string, string>; putTimestamp?: string }>(req);
        return (await server.update(at, body.set ?? {}, body.putTimestamp)) ? reply(res, 204) : reply(res, 404);
      }
      if (method === 'DELETE') return (await server.remove(at), reply(res, 204));
    } else if (sub === 'listing' && method === 'GET') {
      return found(await server.list(at, listingQuery(q)));
    } else if (sub === 'rows' && method === 'GET') {
      return found(await server.rows(at, { marker: q.get('marker') ?? undefined, limit: Math.min(optionalInt(q, 'limit') ?? 1000, 10000) }));
    } else if (sub === 'rows' && method === 'POST') {
      const changed = await server.merge(at, await this.readJson<Array<DbShapes[K]['row']>>(req));
      return changed === null ? reply(res, 404) : reply(res, 200, { changed });
    } else if (sub === 'sync-point' && method === 'GET') {
      const syncPoint = await server.syncPoint(at);
      return syncPoint === null ? reply(res, 404) : reply(res, 200, { syncPoint });
    } else if (sub === 'content-type' && method === 'POST' && kind === 'containers') {
      const body = await this.readJson<{ name: string; contentType: string }>(req);
      return (await dev.containers.setContentType(at, String(body.name), String(body.contentType)), reply(res, 204));
    }
    throw new WireFault('bad_request', 'unknown database request');
  }

  private async asyncPending(dev: LocalDevice, req: IncomingMessage, res: ServerResponse, rest: string[], q: URLSearchParams): Promise<void> {
    const o = dev.objects;
    if (rest.length === 0 && req.method === 'GET') return reply(res, 200, { pendings: await o.asyncPendings(Math.min(optionalInt(q, 'limit') ?? 1000, 10000)) });
    if (rest.length === 0 && req.method === 'PUT') return reply(res, 201, { id: await o.saveAsyncPending(await this.readJson<AsyncPending>(req)) });
    const id = rest.join('/');
    if (req.method === 'DELETE' && ASYNC_PENDING_ID_RE.test(id)) return (await o.dropAsyncPending(id), reply(res, 204));
    throw new WireFault('bad_request', 'unknown async pending request');
  }
}

function listingQuery(q: URLSearchParams): ListingQuery {
  const out: ListingQuery = { limit: Math.min(optionalInt(q, 'limit') ?? 10000, 10000) };
  const prefix = q.get('prefix');
  const delimiter = q.get('delimiter');
  const marker = q.get('marker');
  const endMarker = q.get('end_marker');
  if (prefix !== null) out.prefix = prefix;
  if (delimiter !== null) out.delimiter = delimiter;
  if (marker !== null) out.marker = marker;
  if (endMarker !== null) out.endMarker = endMarker;
  if (q.has('reverse')) out.reverse = true;
  return out;
}
