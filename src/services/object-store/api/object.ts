import { Readable } from 'node:stream';
import { StorageError, type ObjectInfo } from '../storage/types.js';
import { authorizeSource } from './routes-auth.js';
import { header, httpDate, isTrue, sendEmpty, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { fromStorageError, swiftError } from './faults.js';
import { deleteSloManifest, largeObjectSource, putSloManifest } from './large.js';
import { checkMetadata, objectUserHeaders, packEmptyMeta, unpackEmptyMeta } from './meta.js';
import { guessContentType } from './mime.js';
import { parseCopyTarget } from './path.js';
import { evaluateConditions, sendSource, type ByteSource } from './range.js';
import { isSymlink, resolveSymlinks, symlinkPostRedirect, symlinkPutHeaders, SYMLINK_POST_MESSAGE } from './symlink.js';
import { archiveCurrent, versionedDelete } from './versioning.js';

/** Headers describing a stored object in GET/HEAD answers. */
export function objectHeaders(info: ObjectInfo): Record<string, string> {
  const out: Record<string, string> = {
    etag: info.etag,
    'last-modified': httpDate(info.lastModified),
    'x-timestamp': info.timestamp,
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(unpackEmptyMeta(info.headers))) {
    if (k.startsWith('x-object-sysmeta-')) continue;
    out[k] = v;
  }
  return out;
}

/** A whole-object body already opened with `info`; the first full read takes it, whoever ends the request destroys it if nobody did. */
interface Prefetched {
  body?: Readable;
}

export function plainSource(api: ObjectStoreApi, account: string, container: string, info: ObjectInfo, prefetched?: Prefetched): ByteSource {
  return {
    size: info.size,
    contentType: info.contentType,
    async read(start, end) {
      const whole = start === 0 && end === info.size;
      if (whole && prefetched?.body) {
        const body = prefetched.body;
        prefetched.body = undefined;
        return body;
      }
      const got = await api.cluster.getObject(account, container, info.name, whole ? undefined : { start, end });
      if (!got) throw swiftError(404);
      return got.body;
    },
  };
}

async function getObject(api: ObjectStoreApi, s0: SwiftRequest): Promise<void> {
  const [account, container, object] = [s0.path.account, s0.path.container as string, s0.path.object as string];
  // A whole-object GET opens the object once: metadata and bytes come from the same replica
  // state (for a small object, from the same read).
  const prefetch = s0.method === 'GET' && header(s0, 'range') === undefined;
  const got = prefetch ? await api.cluster.getObject(account, container, object) : null;
  const prefetched: Prefetched = { body: got?.body };
  try {
    await answerGet(api, s0, prefetch ? (got?.info ?? null) : await api.cluster.headObject(account, container, object), prefetched);
  } finally {
    prefetched.body?.destroy();
  }
}

async function answerGet(api: ObjectStoreApi, s0: SwiftRequest, stored: ObjectInfo | null, prefetched: Prefetched): Promise<void> {
  if (!stored) throw swiftError(404);
  // a link answers for its target unless ?symlink=get asks for the link itself
  const resolved = s0.query.get('symlink') === 'get' ? { path: s0.path, info: stored } : await resolveSymlinks(api, s0, s0.path, stored);
  const s: SwiftRequest = { ...s0, path: resolved.path };
  const { account, container } = s.path as Required<SwiftRequest['path']>;
  const info = resolved.info;
  const headers = objectHeaders(info);
  if (resolved.contentLocation) headers['content-location'] = resolved.contentLocation;
  let source = plainSource(api, account, container, info, info === stored ? prefetched : undefined);
  const large = s.query.get('multipart-manifest') === 'get' ? null : await largeObjectSource(api, s, info);
  if (large) {
    source = large.source;
    Object.assign(headers, large.headers);
  } else if (s.query.get('multipart-manifest') === 'get' && info.headers['x-static-large-object']) {
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  const verdict = evaluateConditions(s, headers.etag as string, info.lastModified);
  if (verdict === 412) throw swiftError(412);
  if (verdict === 304) {
    s.reply.code(304).header('x-trans-id', s.request.id);
    for (const [k, v] of Object.entries(headers)) s.reply.header(k, v);
    return void s.reply.send();
  }
  await sendSource(s, source, headers);
}

/** X-Delete-At / X-Delete-After → the absolute expiry header; 400 for bad or past values. */
function expiryHeader(api: ObjectStoreApi, s: SwiftRequest): string | undefined {
  const now = api.service.now().getTime() / 1000;
  const after = header(s, 'x-delete-after');
  if (after !== undefined) {
    if (!/^\s*-?\d+\s*$/.test(after)) throw swiftError(400, 'Non-integer X-Delete-After');
    if (Number(after) < 0) throw swiftError(400, 'X-Delete-After in past');
    return String(Math.floor(now + Number(after)));
  }
  const at = header(s, 'x-delete-at');
  if (at !== undefined) {
    if (!/^\s*\d+(\.\d+)?\s*$/.test(at)) throw swiftError(400, 'Non-integer X-Delete-At');
    if (Number(at) < now) throw swiftError(400, 'X-Delete-At in past');
    return String(Math.floor(Number(at)));
  }
  return undefined;
}

function requestContentType(s: SwiftRequest, name: string): string | undefined {
  if (isTrue(header(s, 'x-detect-content-type'))) return guessContentType(name);
  const ct = s.contentType?.trim();
  return ct ? ct : undefined;
}

/** container_quotas / account_quotas: 413 "Upload exceeds quota." before any byte is stored. */
async function checkQuotas(api: ObjectStoreApi, s: SwiftRequest, size: number): Promise<void> {
  const c = s.container;
  if (c) {
    const qb = c.metadata['meta-quota-bytes'];
    if (qb && /^\d+$/.test(qb) && c.bytesUsed + size > Number(qb)) throw swiftError(413, 'Upload exceeds quota.');
    const qc = c.metadata['meta-quota-count'];
    if (qc && /^\d+$/.test(qc) && c.objectCount + 1 > Number(qc)) throw swiftError(413, 'Upload exceeds quota.');
  }
  if (s.caller.reseller) return;
  const account = await api.cluster.headAccount(s.path.account);
  const qa = account?.metadata['meta-quota-bytes'];
  if (account && qa && /^\d+$/.test(qa) && account.bytesUsed + size > Number(qa)) throw swiftError(413, 'Upload exceeds quota.');
}

export interface StoreRequest {
  body: Readable;
  contentLength?: number;
  contentType: string;
  headers: Record<string, string>;
  etag?: string;
}

/** Writes one object and answers 201 like Swift's proxy. */
export async function storeObject(api: ObjectStoreApi, s: SwiftRequest, w: StoreRequest, extra: Record<string, string> = {}): Promise<ObjectInfo> {
  const { account, container, object } = s.path as Required<SwiftRequest['path']>;
  let info: ObjectInfo;
  try {
    info = await api.cluster.putObject(account, container, object, w.body, {
      timestamp: api.service.timestamp(),
      contentType: w.contentType,
      contentLength: w.contentLength,
      etag: w.etag,
      headers: packEmptyMeta(w.headers),
      maxSize: api.config.max_file_size,
    });
  } catch (err) {
    if (err instanceof StorageError) throw fromStorageError(err);
    throw err;
  }
  sendEmpty(s, 201, { etag: info.etag, 'last-modified': httpDate(info.lastModified), ...extra });
  return info;
}

async function putObject(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { object } = s.path as Required<SwiftRequest['path']>;
  if (!s.container) throw swiftError(404);
  checkMetadata(s.headers, 'object', api.config);
  const ifNoneMatch = header(s, 'if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') throw swiftError(400, 'If-None-Match only supports *');
  if (ifNoneMatch !== undefined && (await api.cluster.headObject(s.path.account, s.path.container as string, object))) throw swiftError(412);
  const headers = objectUserHeaders(s.headers);
  delete headers['x-delete-at'];
  const deleteAt = expiryHeader(api, s);
  if (deleteAt) headers['x-delete-at'] = deleteAt;
  if (header(s, 'x-symlink-target') !== undefined) {
    const contentType = await symlinkPutHeaders(api, s, headers);
    await archiveCurrent(api, s);
    await storeObject(api, s, { body: Readable.from([]), contentLength: 0, contentType: contentType ?? 'application/symlink', headers });
    return;
  }
  if (header(s, 'x-copy-from') !== undefined) return copyObject(api, s, headers);
  await archiveCurrent(api, s);
  if (s.query.get('multipart-manifest') === 'put') return putSloManifest(api, s, headers);

  const chunked = /chunked/i.test(header(s, 'transfer-encoding') ?? '');
  const lengthHeader = header(s, 'content-length');
  let contentLength: number | undefined;
  if (!chunked) {
    if (lengthHeader === undefined) throw swiftError(411, 'Missing Content-Length header.');
    if (!/^\d+$/.test(lengthHeader.trim())) throw swiftError(400, 'Invalid Content-Length');
    contentLength = Number(lengthHeader);
    if (contentLength > api.config.max_file_size) throw swiftError(413, 'Your request is too large.');
  }
  await checkQuotas(api, s, contentLength ?? 0);
  const etag = header(s, 'etag')?.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  await storeObject(api, s, {
    body: s.request.raw,
    contentLength,
    contentType: requestContentType(s, object) ?? guessContentType(object),
    headers,
    etag,
  });
}

/** Headers of the source a copy carries over unless X-Fresh-Metadata is set. */
const COPIED_HEADERS = /^(x-object-meta-|x-nubes-empty-object-meta$|content-encoding$|content-disposition$|content-language$|cache-control$|expires$)/;

/** PUT with X-Copy-From (and COPY, rewritten to it): server-side copy, large objects flattened. */
async function copyObject(api: ObjectStoreApi, s: SwiftRequest, requested: Record<string, string>): Promise<void> {
  const src = parseCopyTarget(header(s, 'x-copy-from') as string, 'X-Copy-From');
  const srcAccountHeader = header(s, 'x-copy-from-account');
  const srcAccount = srcAccountHeader ? decodeURIComponent(srcAccountHeader) : s.path.account;
  const lengthHeader = header(s, 'content-length');
  if (lengthHeader && lengthHeader !== '0') throw swiftError(400, 'Copy requests require a zero byte body');
  await authorizeSource(api, s, srcAccount, src.container, src.object);
  const stored = await api.cluster.headObject(srcAccount, src.container, src.object);
  if (!stored) throw swiftError(404);
  const srcPath = { account: srcAccount, container: src.container, object: src.object };
  const resolved = s.query.get('symlink') === 'get' ? { path: srcPath, info: stored } : await resolveSymlinks(api, { ...s, method: 'GET' }, srcPath, stored);
  const info = resolved.info;
  const manifestGet = s.query.get('multipart-manifest') === 'get';
  const large = manifestGet ? null : await largeObjectSource(api, { ...s, path: resolved.path }, info);
  const source = large?.source ?? plainSource(api, resolved.path.account, resolved.path.container as string, info);
  if (source.size > api.config.max_file_size) throw swiftError(413, 'Your request is too large.');
  const headers: Record<string, string> = {};
  if (!isTrue(header(s, 'x-fresh-metadata'))) {
    for (const [k, v] of Object.entries(info.headers)) if (COPIED_HEADERS.test(k)) headers[k] = v;
    if (s.query.get('symlink') === 'get') for (const [k, v] of Object.entries(info.headers)) if (k.startsWith('x-symlink-target')) headers[k] = v;
    if (manifestGet) for (const [k, v] of Object.entries(info.headers)) if (k === 'x-object-manifest' || k === 'x-static-large-object' || k.startsWith('x-object-sysmeta-slo')) headers[k] = v;
  }
  Object.assign(headers, requested);
  await checkQuotas(api, s, source.size);
  await archiveCurrent(api, s);
  const extra: Record<string, string> = {
    'x-copied-from': `${encodeURIComponent(src.container)}/${encodeURIComponent(src.object).replace(/%2F/g, '/')}`,
    'x-copied-from-last-modified': httpDate(info.lastModified),
  };
  if (srcAccount !== s.path.account) extra['x-copied-from-account'] = encodeURIComponent(srcAccount);
  // the copy's answer shows the metadata the new object ended up with, as Swift's copy middleware does
  for (const [k, v] of Object.entries(unpackEmptyMeta(headers))) if (k.startsWith('x-object-meta-')) extra[k] = v;
  await storeObject(api, s, {
    body: await source.read(0, source.size),
    contentLength: source.size,
    contentType: requestContentType(s, s.path.object as string) ?? (large ? large.source.contentType : info.contentType),
    headers,
  }, extra);
}

async function postObject(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account, container, object } = s.path as Required<SwiftRequest['path']>;
  if (!s.container) throw swiftError(404);
  checkMetadata(s.headers, 'object', api.config);
  if (header(s, 'x-symlink-target') !== undefined) throw swiftError(400, 'A PUT request is required to set a symlink target');
  const headers = objectUserHeaders(s.headers);
  delete headers['x-delete-at'];
  delete headers['x-object-manifest'];
  const deleteAt = expiryHeader(api, s);
  if (deleteAt) headers['x-delete-at'] = deleteAt;
  const existing = await api.cluster.headObject(account, container, object);
  if (!existing) throw swiftError(404);
  // a DLO stays a DLO unless the POST says otherwise
  const manifest = header(s, 'x-object-manifest') ?? existing.headers['x-object-manifest'];
  if (manifest) headers['x-object-manifest'] = manifest;
  const contentType = requestContentType(s, object);
  const info = await api.cluster.postObject(account, container, object, { timestamp: api.service.timestamp(), ...(contentType ? { contentType } : {}), headers: packEmptyMeta(headers) });
  if (!info) throw swiftError(404);
  if (isSymlink(info)) throw swiftError(307, SYMLINK_POST_MESSAGE, symlinkPostRedirect(api, account, info));
  sendEmpty(s, 202);
}

async function deleteObject(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account, container, object } = s.path as Required<SwiftRequest['path']>;
  if (!s.container) throw swiftError(404);
  if (s.query.get('multipart-manifest') === 'delete') return deleteSloManifest(api, s);
  const versioned = await versionedDelete(api, s);
  if (versioned === 404) throw swiftError(404);
  if (versioned !== null) return void sendEmpty(s, versioned);
  const deleted = await api.cluster.deleteObject(account, container, object, api.service.timestamp());
  if (!deleted) throw swiftError(404);
  sendEmpty(s, 204);
}

export async function handleObject(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  switch (s.method) {
    case 'GET':
    case 'HEAD':
      if (!s.container) throw swiftError(404);
      return getObject(api, s);
    case 'PUT':
      return putObject(api, s);
    case 'POST':
      return postObject(api, s);
    case 'DELETE':
      return deleteObject(api, s);
    default:
      throw swiftError(405, undefined, { allow: 'HEAD, GET, PUT, POST, DELETE, COPY' });
  }
}
