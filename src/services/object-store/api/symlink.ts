import type { ObjectInfo } from '../storage/types.js';
import { header, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';
import type { SwiftPath } from './path.js';
import { authorizeFor } from './routes-auth.js';

/**
 * Symlinks (Swift's symlink middleware): a zero-byte object whose X-Symlink-Target
 * ("<container>/<object>", optionally X-Symlink-Target-Account) GET and HEAD follow, at most
 * SYMLOOP_MAX links deep; ?symlink=get shows the link itself. A static link also stores
 * X-Symlink-Target-Etag/-Bytes and answers 409 once the target changes.
 */

export const SYMLOOP_MAX = 2;
const TARGET = 'x-symlink-target';
const TARGET_ACCOUNT = 'x-symlink-target-account';
const TARGET_ETAG = 'x-symlink-target-etag';
const TARGET_BYTES = 'x-symlink-target-bytes';
const FORM_ERROR = 'X-Symlink-Target header must be of the form <container name>/<object name>';

const quote = (v: string): string => encodeURIComponent(v).replace(/%2F/g, '/');

function unquote(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw swiftError(412, 'Invalid UTF8 or contains NULL');
  }
}

export function isSymlink(info: ObjectInfo): boolean {
  return info.headers[TARGET] !== undefined;
}

/** The object a link points at. */
function targetOf(account: string, info: ObjectInfo): SwiftPath {
  const target = unquote(info.headers[TARGET] ?? '');
  const slash = target.indexOf('/');
  const targetAccount = info.headers[TARGET_ACCOUNT];
  return { account: targetAccount ? unquote(targetAccount) : account, container: target.slice(0, slash), object: target.slice(slash + 1) };
}

/** "/v1/<account>/<container>/<object>" of a link's target, as Content-Location shows it. */
function targetLocation(account: string, info: ObjectInfo): string {
  return `/v1/${info.headers[TARGET_ACCOUNT] ?? quote(account)}/${info.headers[TARGET]}`;
}

/** The caller must be allowed to read every target, as Swift's symlink subrequests re-authorize. */
async function authorizeTarget(api: ObjectStoreApi, s: SwiftRequest, target: SwiftPath): Promise<void> {
  const c = s.caller;
  if (c.reseller || c.signed || (c.owner && target.account === s.path.account)) return;
  const info = await api.cluster.headContainer(target.account, target.container as string);
  await authorizeFor(api, c.ctx, s.method, target, info, header(s, 'referer'));
}

const sloEtag = (info: ObjectInfo): string => info.headers['x-object-sysmeta-slo-etag'] ?? info.etag;

export interface Resolved {
  path: SwiftPath;
  info: ObjectInfo;
  /** Set when at least one link was followed. */
  contentLocation?: string;
}

/** Follows links from `info` at `path` to the final object; 404 (with Content-Location) when a target is missing. */
export async function resolveSymlinks(api: ObjectStoreApi, s: SwiftRequest, path: SwiftPath, info: ObjectInfo): Promise<Resolved> {
  let current: Resolved = { path, info };
  let hops = 0;
  let expectedEtag: string | undefined;
  while (isSymlink(current.info)) {
    const staticEtag = current.info.headers[TARGET_ETAG];
    if (expectedEtag && staticEtag !== undefined && staticEtag !== expectedEtag) {
      throw swiftError(409, 'X-Symlink-Target-Etag headers do not match', { 'content-location': current.contentLocation ?? '' });
    }
    if (hops >= SYMLOOP_MAX) throw swiftError(409, `Too many levels of symbolic links, maximum allowed is ${SYMLOOP_MAX}`);
    hops += 1;
    const target = targetOf(current.path.account, current.info);
    const contentLocation = targetLocation(current.path.account, current.info);
    await authorizeTarget(api, s, target);
    const next = await api.cluster.headObject(target.account, target.container as string, target.object as string);
    if (!next) throw swiftError(404, undefined, { 'content-location': contentLocation });
    expectedEtag = staticEtag;
    current = { path: target, info: next, contentLocation };
    if (expectedEtag && !isSymlink(next) && sloEtag(next) !== expectedEtag) {
      throw swiftError(409, `Object Etag '${sloEtag(next)}' does not match X-Symlink-Target-Etag header '${expectedEtag}'`, { 'content-location': contentLocation });
    }
  }
  return current;
}

/**
 * The headers a PUT with X-Symlink-Target stores, after Swift's checks: a zero-byte body, a
 * "<container>/<object>" target that is not the link itself, and for a static link a target
 * that exists with the given ETag. Returns the content type the link gets.
 */
export async function symlinkPutHeaders(api: ObjectStoreApi, s: SwiftRequest, headers: Record<string, string>): Promise<string | undefined> {
  const rawTarget = header(s, TARGET) as string;
  const length = header(s, 'content-length');
  if (length !== undefined && length.trim() !== '0') throw swiftError(400, 'Symlink requests require a zero byte body');
  const target = unquote(rawTarget);
  const slash = target.indexOf('/');
  if (target.startsWith('/') || slash <= 0 || slash === target.length - 1) throw swiftError(412, FORM_ERROR);
  const container = target.slice(0, slash);
  const object = target.slice(slash + 1);
  headers[TARGET] = quote(`${container}/${object}`);
  const rawAccount = header(s, TARGET_ACCOUNT);
  let account = s.path.account;
  if (rawAccount !== undefined) {
    account = unquote(rawAccount);
    if (!account) throw swiftError(412, 'Account name cannot be empty');
    if (account.includes('/')) throw swiftError(412, 'Account name cannot contain slashes');
    headers[TARGET_ACCOUNT] = quote(account);
  }
  if (account === s.path.account && container === s.path.container && object === s.path.object) throw swiftError(400, 'Symlink cannot target itself');
  const etag = header(s, TARGET_ETAG)?.trim().replace(/^"(.*)"$/, '$1');
  let contentType = s.contentType?.trim() || undefined;
  if (etag) {
    if (/[;"\\]/.test(etag)) throw swiftError(400, 'Bad X-Symlink-Target-Etag format');
    const targetPath = { account, container, object };
    const location = `/v1/${quote(account)}/${headers[TARGET]}`;
    await authorizeTarget(api, s, targetPath);
    const info = await api.cluster.headObject(account, container, object);
    if (!info) throw swiftError(409, 'X-Symlink-Target does not exist', { 'content-location': location });
    if (sloEtag(info) !== etag) throw swiftError(409, `Object Etag '${sloEtag(info)}' does not match X-Symlink-Target-Etag header '${etag}'`, { 'content-location': location });
    headers[TARGET_ETAG] = etag;
    headers[TARGET_BYTES] = info.headers['x-object-sysmeta-slo-size'] ?? String(info.size);
    contentType ??= info.contentType;
  }
  return contentType ?? 'application/symlink';
}

/** A POST to a link changes the link's metadata, then says so with 307 and the target's location. */
export function symlinkPostRedirect(api: ObjectStoreApi, account: string, info: ObjectInfo): Record<string, string> {
  const headers: Record<string, string> = { location: `${api.v1Base}/${info.headers[TARGET_ACCOUNT] ?? quote(account)}/${info.headers[TARGET]}` };
  const etag = info.headers[TARGET_ETAG];
  if (etag) headers[TARGET_ETAG] = etag;
  return headers;
}

export const SYMLINK_POST_MESSAGE = 'The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.';
