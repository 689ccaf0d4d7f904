import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Caller } from './access.js';
import type { ObjectStoreApi } from './context.js';
import { swiftError } from './faults.js';
import type { SwiftPath } from './path.js';

const DIGESTS: Record<number, string> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

function parseExpires(value: string): number | null {
  if (/^\d+$/.test(value)) return Number(value);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z$/.exec(value);
  return m ? Math.floor(Date.parse(`${m[1]}Z`) / 1000) : null;
}

/**
 * A TempURL or FormPOST signature: "<hex>" (algorithm by length) or "<algo>:<base64url>" →
 * [algorithm, raw digest]; null when malformed.
 */
export function parseSignature(sig: string): [string, Buffer] | null {
  const colon = sig.indexOf(':');
  if (colon > 0) {
    const algo = sig.slice(0, colon);
    if (!['sha1', 'sha256', 'sha512'].includes(algo)) return null;
    return [algo, Buffer.from(sig.slice(colon + 1).replace(/-/g, '+').replace(/_/g, '/'), 'base64')];
  }
  const algo = DIGESTS[sig.length];
  return algo && /^[0-9a-f]+$/i.test(sig) ? [algo, Buffer.from(sig, 'hex')] : null;
}

const invalid = () => swiftError(401, '401 Unauthorized: Temp URL invalid\n');

/**
 * TempURL: anonymous access to one object (or a prefix) signed with an account or container
 * key: HMAC(key, "METHOD\nEXPIRES\nPATH"). The path is the /v1/... path as Swift sees it; the
 * same path under this service's prefix is accepted too.
 */
export async function verifyTempUrl(api: ObjectStoreApi, method: string, path: SwiftPath, query: URLSearchParams, servicePrefix: string): Promise<Caller> {
  const sig = query.get('temp_url_sig') ?? '';
  const expires = parseExpires(query.get('temp_url_expires') ?? '');
  if (!path.container || !path.object || expires === null) throw invalid();
  if (expires < api.service.now().getTime() / 1000) throw invalid();
  const allowed = api.config.tempurl_methods.split(',').map((m) => m.trim().toUpperCase());
  if (!allowed.includes(method)) throw invalid();
  const parsed = parseSignature(sig);
  if (!parsed) throw invalid();
  const [algo, digest] = parsed;
  const prefix = query.get('temp_url_prefix');
  if (prefix !== null && !path.object.startsWith(prefix)) throw invalid();
  const base = `/v1/${path.account}/${path.container}/`;
  const signedPaths = prefix !== null ? [`prefix:${base}${prefix}`, `prefix:${servicePrefix}${base}${prefix}`] : [`${base}${path.object}`, `${servicePrefix}${base}${path.object}`];
  // a HEAD may use a URL signed for GET, PUT or HEAD, as Swift allows
  const methods = method === 'HEAD' ? ['HEAD', 'GET', 'PUT'] : [method];
  const account = await api.cluster.headAccount(path.account);
  const container = await api.cluster.headContainer(path.account, path.container);
  const keys = [account?.metadata['meta-temp-url-key'], account?.metadata['meta-temp-url-key-2'], container?.metadata['meta-temp-url-key'], container?.metadata['meta-temp-url-key-2']].filter((k): k is string => Boolean(k));
  for (const key of keys) {
    for (const m of methods) {
      for (const p of signedPaths) {
        const expected = createHmac(algo, key).update(`${m}\n${query.get('temp_url_expires')}\n${p}`).digest();
        if (expected.length === digest.length && timingSafeEqual(expected, digest)) return { owner: false, reseller: false, signed: true };
      }
    }
  }
  throw invalid();
}

/** GET through a TempURL downloads as an attachment unless ?inline; ?filename= names it. */
export function tempUrlDisposition(path: SwiftPath, query: URLSearchParams): string {
  const name = query.get('filename') ?? (path.object ?? '').split('/').pop() ?? '';
  const safe = name.replace(/["\\]/g, '_');
  if (query.has('inline')) return query.has('filename') ? `inline; filename="${safe}"` : 'inline';
  return `attachment; filename="${safe}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
