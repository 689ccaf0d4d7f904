import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BulkResponder, reportFailure, swiftQuote, type BulkReport } from './bulk-format.js';
import { header, type ObjectStoreApi } from './context.js';
import { SwiftError, statusLine, swiftError } from './faults.js';
import type { PreAuthRequest } from './pre-auth.js';
import { subrequest, type SubrequestEnv } from './subrequest.js';
import { TarError, readTar, type TarEntry } from './tar.js';

/**
 * Extract archive (Swift's bulk middleware): PUT ?extract-archive=tar|tar.gz|tar.bz2 unpacks
 * the archive into the account, container or pseudo-directory of the URL. Each regular file is a
 * PUT subrequest made with the caller's identity (containers are created as needed), streamed
 * straight from the archive. Always 200; the report counts "Number Files Created".
 */

const MAX_CONTAINERS = 10000;
const MAX_FAILED = 1000;

export type ArchiveKind = '' | 'gz' | 'bz2';

/** The archive kind of ?extract-archive, undefined when the parameter is absent; 400 for unknown formats. */
export function extractArchiveKind(method: string, query: URLSearchParams): ArchiveKind | undefined {
  const value = query.get('extract-archive');
  if (value === null || method !== 'PUT') return undefined;
  const kind = ({ tar: '', 'tar.gz': 'gz', 'tar.bz2': 'bz2' } as Record<string, ArchiveKind>)[value.toLowerCase().replace(/^\.+|\.+$/g, '')];
  if (kind === undefined) throw swiftError(400, 'Unsupported archive format');
  return kind;
}

/** The decompressed archive: gzip through zlib, bzip2 through Debian's bzip2 tool (Node has no bz2). */
function decompressed(body: Readable, kind: ArchiveKind): AsyncIterable<Buffer> {
  if (kind === '') return body;
  if (kind === 'gz') {
    const gunzip = createGunzip();
    pipeline(body, gunzip).catch(() => undefined); // gunzip reports the error to its reader
    return gunzip;
  }
  const child = spawn('bzip2', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  pipeline(body, child.stdin).catch(() => undefined);
  const out = child.stdout;
  child.on('error', (err) => out.destroy(new TarError(`bzip2: ${err.message}`)));
  child.on('exit', (code) => {
    if (code) out.destroy(new TarError('invalid compressed data'));
  });
  return out;
}

/**
 * Object headers every extracted file gets: the request's metadata and expiry, then the file's
 * xattrs. The archive's own Content-Type is not passed on: files are typed by their names.
 */
function entryHeaders(r: PreAuthRequest, entry: TarEntry): Record<string, string> {
  const headers: Record<string, string> = { 'content-length': String(entry.size) };
  for (const [k, v] of Object.entries(r.headers)) {
    if (v === undefined) continue;
    if (k === 'x-delete-at' || k === 'x-delete-after' || (k.startsWith('x-object-meta-') && k.length > 14)) headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  // GNU tar writes xattrs as SCHILY.xattr.*, libarchive as LIBARCHIVE.xattr.*
  for (const [key, value] of Object.entries(entry.pax)) {
    const m = /^(?:SCHILY|LIBARCHIVE)\.xattr\.user\.(.+)$/.exec(key);
    if (!m) continue;
    if (m[1] === 'mime_type') headers['content-type'] = value;
    else if (m[1]?.startsWith('meta.')) headers[`x-object-meta-${m[1].slice(5).toLowerCase()}`] = value;
  }
  return headers;
}

/** HEAD, then PUT if missing; true when this created it. A failure is [status, statusLine]. */
async function ensureContainer(api: ObjectStoreApi, account: string, container: string, env: SubrequestEnv): Promise<true | false | number> {
  const head = await subrequest(api, { method: 'HEAD', path: { account, container }, env });
  if (head.status >= 200 && head.status < 300) return false;
  if (head.status === 404) {
    const put = await subrequest(api, { method: 'PUT', path: { account, container }, headers: { 'content-length': '0' }, env });
    if (put.status >= 200 && put.status < 300) return true;
    return put.status;
  }
  return head.status;
}

export async function extractArchive(api: ObjectStoreApi, r: PreAuthRequest, kind: ArchiveKind): Promise<void> {
  const responder = BulkResponder.forRequest(r, 'extract');
  const report: BulkReport = { fields: { 'Response Status': statusLine(201), 'Response Body': '', 'Number Files Created': 0 }, errors: [] };
  let failureStatus = 400;
  try {
    if (!responder.format) throw swiftError(406);
    if (header(r, 'content-length') === undefined && !/chunked/i.test(header(r, 'transfer-encoding') ?? '')) throw swiftError(411);
    const env: SubrequestEnv = { ctx: await r.identity() };
    const base = [r.path.container, r.path.object].filter(Boolean).join('/').replace(/\/+$/, '');
    const accessed = new Set<string>();
    let created = 0;
    for await (const entry of readTar(decompressed(r.request.raw, kind))) {
      if (report.errors.length >= MAX_FAILED) break;
      if (entry.kind !== 'file') continue;
      let objPath = entry.name.replace(/^\.\//, '').replace(/^\/+/, '');
      if (base) objPath = `${base}/${objPath}`;
      const slash = objPath.indexOf('/');
      if (slash < 0) continue; // files at the archive's top level of an account upload have no container
      const container = objPath.slice(0, slash);
      const object = objPath.slice(slash + 1);
      const quoted = swiftQuote(objPath.slice(0, api.config.max_object_name_length + api.config.max_container_name_length + 2));
      if (objPath.includes('\u0000') || objPath.includes('\ufffd')) {
        report.errors.push([quoted, statusLine(412)]);
        continue;
      }
      if (entry.size > api.config.max_file_size) {
        report.errors.push([quoted, statusLine(413)]);
        continue;
      }
      let containerFailure: [string, string] | undefined;
      if (!accessed.has(container)) {
        const made = await ensureContainer(api, r.account, container, env);
        if (made === true && ++created > MAX_CONTAINERS) throw swiftError(400, `More than ${MAX_CONTAINERS} containers to create from tar.`);
        if (typeof made === 'number') {
          if (made === 401) throw swiftError(401);
          // the object PUT may still succeed through an ACL
          containerFailure = [swiftQuote(`/v1/${r.account}/${container}`), statusLine(made)];
        }
      }
      const put = object
        ? await subrequest(api, { method: 'PUT', path: { account: r.account, container, object }, headers: entryHeaders(r, entry), body: entry.body, env })
        : { status: 400 };
      accessed.add(container);
      if (put.status >= 200 && put.status < 300) {
        report.fields['Number Files Created'] = Number(report.fields['Number Files Created']) + 1;
        continue;
      }
      if (containerFailure) report.errors.push(containerFailure);
      if (put.status === 401) {
        report.errors.push([quoted, statusLine(401)]);
        throw swiftError(401);
      }
      if (put.status >= 500) failureStatus = 502;
      report.errors.push([quoted, statusLine(put.status)]);
    }
    if (report.errors.length) report.fields['Response Status'] = statusLine(failureStatus);
    else if (!report.fields['Number Files Created']) {
      report.fields['Response Status'] = statusLine(400);
      report.fields['Response Body'] = 'Invalid Tar File: No Valid Files';
    }
  } catch (err) {
    if (err instanceof SwiftError) reportFailure(report, err);
    else if (err instanceof TarError || (err instanceof Error && 'code' in err && String((err as { code?: unknown }).code).startsWith('Z_'))) {
      report.fields['Response Status'] = statusLine(400);
      report.fields['Response Body'] = `Invalid Tar File: ${err.message}`;
    } else {
      r.request.log.error({ err }, 'extract archive failed');
      report.fields['Response Status'] = statusLine(500);
    }
  }
  responder.finish(report);
}
