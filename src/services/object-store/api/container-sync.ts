import type { IncomingHttpHeaders } from 'node:http';
import { isValidTimestamp, normalizeTimestamp, compareTimestamps } from '../storage/timestamp.js';
import { StorageError, type ContainerInfo } from '../storage/types.js';
import { canonicalPath, sameSecret, syncSignature, validateSyncTo } from '../sync-realms.js';
import type { Caller } from './access.js';
import { header, httpDate, sendEmpty, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { fromStorageError, swiftError } from './faults.js';
import { checkMetadata, headerValue, objectUserHeaders, packEmptyMeta } from './meta.js';
import type { SwiftPath } from './path.js';

/**
 * Container sync, proxy side (Swift's container_sync middleware plus the sync-key check of
 * keystoneauth): validating X-Container-Sync-To on container PUT/POST, and letting the sync
 * daemon of this or another cloud write into a container that shares its X-Container-Sync-Key.
 */

const FULL_URLS_REFUSED = 'Full URLs are not allowed for X-Container-Sync-To values. Only realm values of the format //realm/cluster/account/container are allowed.\n';
const BAD_SYNC_AUTH = 'X-Container-Sync-Auth header not valid; contact cluster operator for support.';

/** Container PUT/POST: refuses a sync target Swift's container server would (400 and its message). */
export function checkSyncTo(api: ObjectStoreApi, set: Record<string, string>): void {
  const value = set['sync-to'];
  if (!value) return;
  if (!api.config.container_sync_allow_full_urls && !value.startsWith('//')) throw swiftError(400, FULL_URLS_REFUSED);
  const checked = validateSyncTo(value, api.service.syncRealms);
  if ('error' in checked) throw swiftError(400, checked.error);
}

export interface SyncAuthInput {
  method: string;
  path: SwiftPath;
  container: ContainerInfo | null;
  headers: IncomingHttpHeaders;
  /** The request path as sent (URL-encoded): realm signatures cover it. */
  rawPath: string;
}

/**
 * The caller of an object request sent by a container-sync daemon, or undefined when the
 * request carries no (usable) sync credentials and ordinary authorization applies.
 * X-Container-Sync-Auth (realms) must be valid or the request is refused with 401, as Swift's
 * middleware does; X-Container-Sync-Key (full URLs) must equal the container's key and come
 * with an X-Timestamp, otherwise it is ignored, as keystoneauth does.
 */
export function containerSyncCaller(api: ObjectStoreApi, r: SyncAuthInput): Caller | undefined {
  if (!r.path.object) return undefined;
  const userKey = r.container?.metadata['sync-key'] || undefined;
  const auth = headerValue(r.headers, 'x-container-sync-auth');
  if (auth !== undefined) {
    if (!validRealmSignature(api, r, auth, userKey)) {
      throw swiftError(401, BAD_SYNC_AUTH, { 'content-type': 'text/plain', 'www-authenticate': `SwiftContainerSync realm="${encodeURIComponent(r.path.account)}"` });
    }
    return { owner: false, reseller: false };
  }
  const key = headerValue(r.headers, 'x-container-sync-key');
  if (key !== undefined && userKey && headerValue(r.headers, 'x-timestamp') !== undefined && sameSecret(key, userKey)) return { owner: false, reseller: false };
  return undefined;
}

function validRealmSignature(api: ObjectStoreApi, r: SyncAuthInput, auth: string, userKey: string | undefined): boolean {
  const parts = auth.trim().split(/\s+/);
  if (parts.length !== 3 || !userKey) return false;
  const [realmName, nonce, sig] = parts as [string, string, string];
  const realm = api.service.syncRealms.get(realmName.toUpperCase());
  if (!realm) return false;
  const path = canonicalPath(r.rawPath);
  const timestamp = headerValue(r.headers, 'x-timestamp') ?? '0';
  return [realm.key, realm.key2].some((k) => k !== undefined && sameSecret(sig, syncSignature(r.method, path, timestamp, nonce, k, userKey)));
}

/** The sender's X-Timestamp (kept, so a synced object has its original time), else now. */
function syncedTimestamp(api: ObjectStoreApi, s: SwiftRequest): string {
  const raw = header(s, 'x-timestamp');
  if (raw === undefined) return api.service.timestamp();
  if (!isValidTimestamp(raw.trim())) throw swiftError(400, `X-Timestamp should be a UNIX timestamp float value; was ${JSON.stringify(raw)}`);
  return normalizeTimestamp(raw.trim());
}

/**
 * A PUT or DELETE from a sync daemon: stored as sent, with the sender's timestamp, bypassing
 * versioning, quotas and large-object handling (the daemon copies what its cluster stores).
 * An older write than what is here changes nothing: 202 for PUT, 409 for DELETE, as Swift.
 */
export async function handleSyncedWrite(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account, container, object } = s.path as Required<SwiftPath>;
  const timestamp = syncedTimestamp(api, s);
  if (s.method === 'DELETE') {
    if (!s.container) throw swiftError(404);
    let deleted: boolean;
    try {
      deleted = await api.cluster.deleteObject(account, container, object, timestamp);
    } catch (err) {
      if (err instanceof StorageError) throw fromStorageError(err);
      throw err;
    }
    if (!deleted) throw swiftError(404);
    sendEmpty(s, 204);
    return;
  }
  s.request.raw.on('error', () => undefined);
  if (!s.container) {
    s.request.raw.resume();
    throw swiftError(404);
  }
  checkMetadata(s.headers, 'object', api.config);
  const lengthHeader = header(s, 'content-length');
  let contentLength: number | undefined;
  if (!/chunked/i.test(header(s, 'transfer-encoding') ?? '')) {
    if (lengthHeader === undefined) throw swiftError(411, 'Missing Content-Length header.');
    if (!/^\d+$/.test(lengthHeader.trim())) throw swiftError(400, 'Invalid Content-Length');
    contentLength = Number(lengthHeader);
    if (contentLength > api.config.max_file_size) throw swiftError(413, 'Your request is too large.');
  }
  const existing = await api.cluster.headObject(account, container, object);
  if (existing && compareTimestamps(existing.timestamp, timestamp) >= 0) {
    s.request.raw.resume();
    sendEmpty(s, 202);
    return;
  }
  const headers = objectUserHeaders(s.headers);
  for (const name of ['x-symlink-target', 'x-symlink-target-account']) {
    const v = header(s, name);
    if (v) headers[name] = v;
  }
  const etag = header(s, 'etag')?.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  try {
    const info = await api.cluster.putObject(account, container, object, s.request.raw, {
      timestamp,
      contentType: s.contentType?.trim() || 'application/octet-stream',
      contentLength,
      ...(etag ? { etag } : {}),
      headers: packEmptyMeta(headers),
      maxSize: api.config.max_file_size,
    });
    sendEmpty(s, 201, { etag: info.etag, 'last-modified': httpDate(info.lastModified) });
  } catch (err) {
    if (err instanceof StorageError && err.kind === 'conflict') {
      sendEmpty(s, 202);
      return;
    }
    if (err instanceof StorageError) throw fromStorageError(err);
    throw err;
  }
}
