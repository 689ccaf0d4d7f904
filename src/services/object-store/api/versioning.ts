import { Readable } from 'node:stream';
import type { ContainerInfo, ObjectListing } from '../storage/types.js';
import type { ObjectStoreApi, SwiftRequest } from './context.js';
import { swiftError } from './faults.js';

/**
 * Object versioning as Swift's versioned_writes middleware does it ("legacy" modes).
 * X-Versions-Location (stack): a PUT over an object first copies the current version to
 * <archive>/<len><name>/<timestamp>; a DELETE pops the newest archived version back.
 * X-History-Location (history): PUTs archive the same way; a DELETE archives the current
 * version, writes a zero-byte delete marker and removes the object.
 * Copies are made directly in the cluster, as Swift's pre-authorized subrequests are: the
 * caller needs write access to the versioned container only.
 */

export const DELETE_MARKER_CONTENT_TYPE = 'application/x-deleted;swift_versions_deleted=1';

export interface Versioning {
  mode: 'stack' | 'history';
  /** The archive container (unquoted). */
  location: string;
}

export function versioningOf(container: ContainerInfo | null): Versioning | null {
  const stack = container?.metadata['versions-location'];
  const history = container?.metadata['history-location'];
  const raw = stack || history;
  if (!raw) return null;
  let location = raw;
  try {
    location = decodeURIComponent(raw);
  } catch {
    /* stored as given */
  }
  return { mode: stack ? 'stack' : 'history', location: location.split('/')[0] ?? location };
}

/** "<3 hex digits of the name's byte length><name>/": the archive prefix of one object. */
export function versionsPrefix(object: string): string {
  return `${Buffer.byteLength(object).toString(16).padStart(3, '0')}${object}/`;
}

/** A client error while versioning fails the request with 412, anything else with 503 (Swift's _check_response_error). */
function versioningFailed(status: number): Error {
  return status >= 400 && status < 500 ? swiftError(412) : swiftError(503);
}

/** Copies one stored object as it is (data, type, every header); false when the source is gone. */
async function copyRaw(api: ObjectStoreApi, account: string, from: [string, string], to: [string, string]): Promise<boolean> {
  const got = await api.cluster.getObject(account, from[0], from[1]);
  if (!got) return false;
  if (got.info.size > api.config.max_file_size) throw swiftError(413);
  if (!(await api.cluster.headContainer(account, to[0]))) throw versioningFailed(404);
  await api.cluster.putObject(account, to[0], to[1], got.body, {
    timestamp: api.service.timestamp(),
    contentType: got.info.contentType,
    contentLength: got.info.size,
    headers: { ...got.info.headers },
    maxSize: api.config.max_file_size,
  });
  return true;
}

/** Before a PUT (or COPY) replaces an object in a versioned container: archive the current version. */
export async function archiveCurrent(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const versioning = versioningOf(s.container);
  const { account, container, object } = s.path;
  if (!versioning || !container || !object) return;
  const current = await api.cluster.headObject(account, container, object);
  if (!current) return;
  await copyRaw(api, account, [container, object], [versioning.location, versionsPrefix(object) + current.timestamp]);
}

async function archiveListing(api: ObjectStoreApi, account: string, archive: string, object: string): Promise<Extract<ObjectListing, { name: string }>[]> {
  const rows = await api.cluster.listObjects(account, archive, { prefix: versionsPrefix(object), reverse: true, limit: api.config.container_listing_limit });
  return (rows ?? []).filter((r): r is Extract<ObjectListing, { name: string }> => 'name' in r);
}

/**
 * A DELETE in a versioned container. Returns the status to answer with, or null when the plain
 * delete should go ahead (nothing archived, or a history container after archiving).
 */
export async function versionedDelete(api: ObjectStoreApi, s: SwiftRequest): Promise<number | null> {
  const versioning = versioningOf(s.container);
  const { account, container, object } = s.path;
  if (!versioning || !container || !object) return null;
  const archive = versioning.location;
  if (versioning.mode === 'history') {
    const current = await api.cluster.headObject(account, container, object);
    if (current) await copyRaw(api, account, [container, object], [archive, versionsPrefix(object) + current.timestamp]);
    if (!(await api.cluster.headContainer(account, archive))) throw versioningFailed(404);
    await api.cluster.putObject(account, archive, versionsPrefix(object) + api.service.timestamp(), Readable.from([]), {
      timestamp: api.service.timestamp(),
      contentType: DELETE_MARKER_CONTENT_TYPE,
      contentLength: 0,
      headers: {},
      maxSize: api.config.max_file_size,
    });
    return null;
  }
  const versions = await archiveListing(api, account, archive, object);
  for (let i = 0; i < versions.length; i++) {
    const version = versions[i] as (typeof versions)[number];
    if (version.contentType === DELETE_MARKER_CONTENT_TYPE) {
      // a marker is newest: restore what came before it only when the object is gone
      if (await api.cluster.headObject(account, container, object)) return null;
      for (const older of versions.slice(i + 1)) {
        if (older.contentType === DELETE_MARKER_CONTENT_TYPE) break;
        if (!(await copyRaw(api, account, [archive, older.name], [container, object]))) continue;
        await api.cluster.deleteObject(account, archive, older.name, api.service.timestamp());
        break;
      }
      return (await api.cluster.deleteObject(account, archive, version.name, api.service.timestamp())) ? 204 : 404;
    }
    if (!(await copyRaw(api, account, [archive, version.name], [container, object]))) continue;
    // the DELETE now removes the archived copy that was just reinstated
    return (await api.cluster.deleteObject(account, archive, version.name, api.service.timestamp())) ? 204 : 404;
  }
  return null;
}
