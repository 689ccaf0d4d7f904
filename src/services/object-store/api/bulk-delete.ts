import type { Readable } from 'node:stream';
import { BulkResponder, reportFailure, swiftQuote, type BulkReport } from './bulk-format.js';
import { header, type ObjectStoreApi } from './context.js';
import { SwiftError, statusLine, swiftError } from './faults.js';
import type { PreAuthRequest } from './pre-auth.js';
import { subrequest } from './subrequest.js';

/**
 * Bulk delete (Swift's bulk middleware): POST or DELETE with ?bulk-delete, a body of
 * newline-separated, URL-encoded "/container/object" or "/container" names. Every name becomes
 * a DELETE subrequest with the caller's identity (so ACLs, versioning and the rest apply);
 * objects go first, then containers. The answer is always 200; the report says what happened.
 */

const CONCURRENCY = 2;
const MAX_FAILED_DELETES = 1000;

/** Reads the names, enforcing Swift's limits on count and line length as the body streams. */
async function readNames(body: Readable, maxNames: number, maxLine: number): Promise<string[]> {
  const names: string[] = [];
  let pending = '';
  const take = (line: string): void => {
    const trimmed = line.trim();
    if (trimmed) names.push(trimmed);
    if (names.length > maxNames) throw swiftError(413, `Maximum Bulk Deletes: ${maxNames} per request`);
  };
  for await (const chunk of body) {
    pending += Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      take(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > maxLine * 2) throw swiftError(400, 'Invalid File Name');
  }
  take(pending);
  return names;
}

/** URL-decodes one name (bytes as UTF-8); null when it is not valid UTF-8 or holds a NUL. */
function decodeName(raw: string): string | null {
  try {
    const bytes = Buffer.from(raw.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

export function isBulkDelete(method: string, query: URLSearchParams): boolean {
  return query.has('bulk-delete') && (method === 'POST' || method === 'DELETE');
}

export async function bulkDelete(api: ObjectStoreApi, r: PreAuthRequest): Promise<void> {
  const responder = BulkResponder.forRequest(r, 'delete');
  const report: BulkReport = { fields: { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0 }, errors: [] };
  const count = (key: 'Number Deleted' | 'Number Not Found'): void => {
    report.fields[key] = Number(report.fields[key]) + 1;
  };
  let failureStatus = 400;
  try {
    if (!responder.format) throw swiftError(406);
    const incoming = r.contentType;
    if (incoming && !incoming.startsWith('text/plain')) throw swiftError(406);
    if (header(r, 'content-length') === undefined && !/chunked/i.test(header(r, 'transfer-encoding') ?? '')) throw swiftError(411);
    const c = api.config;
    const raw = await readNames(r.request.raw, c.max_deletes_per_request, c.max_object_name_length + c.max_container_name_length + 2);
    const ctx = await r.identity();
    const items = raw.map((name) => ({ raw: name, name: decodeName(name) }));
    const isObject = (n: string): boolean => n.replace(/^\/+|\/+$/g, '').includes('/');
    for (const objects of [true, false]) {
      const batch = items.filter((i) => (i.name === null ? objects : isObject(i.name) === objects));
      for (let i = 0; i < batch.length; i += CONCURRENCY) {
        const group = batch.slice(i, i + CONCURRENCY);
        const results = await Promise.all(
          group.map(async (item) => {
            if (item.name === null) return { item, status: 412 };
            const parts = item.name.replace(/^\/+/, '');
            const slash = parts.indexOf('/');
            const container = slash < 0 ? parts : parts.slice(0, slash);
            const object = slash < 0 ? '' : parts.slice(slash + 1);
            if (!container) return { item, status: 404 };
            const res = await subrequest(api, { method: 'DELETE', path: { account: r.account, container, ...(object ? { object } : {}) }, env: { ctx } });
            return { item, status: res.status };
          }),
        );
        for (const { item, status } of results) {
          const quoted = item.name === null ? item.raw : swiftQuote(item.name);
          if (status >= 200 && status < 300) count('Number Deleted');
          else if (status === 404) count('Number Not Found');
          else {
            if (status >= 500) failureStatus = 502;
            report.errors.push([quoted, statusLine(status)]);
          }
        }
        if (report.errors.length >= MAX_FAILED_DELETES) throw swiftError(400, 'Max delete failures exceeded');
      }
    }
    if (report.errors.length) report.fields['Response Status'] = statusLine(failureStatus);
    else if (!report.fields['Number Deleted'] && !report.fields['Number Not Found']) {
      report.fields['Response Status'] = statusLine(400);
      report.fields['Response Body'] = 'Invalid bulk delete.';
    }
  } catch (err) {
    if (!(err instanceof SwiftError)) r.request.log.error({ err }, 'bulk delete failed');
    reportFailure(report, err instanceof SwiftError ? err : swiftError(500, ''));
  }
  responder.finish(report);
}
