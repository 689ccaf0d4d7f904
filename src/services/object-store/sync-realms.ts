import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../../common/config/options.js';

/**
 * Container sync's shared vocabulary (Swift's container-sync-realms.conf and
 * utils.validate_sync_to), used by the proxy (validating X-Container-Sync-To, checking
 * X-Container-Sync-Auth) and by the sync daemon (signing what it sends).
 *
 * This server only ever talks to loopback hosts: realm endpoints and full-URL targets must be
 * 127.0.0.0/8, ::1 or localhost, so a user cannot make it reach into other networks.
 */

export interface SyncRealm {
  /** Upper-cased like Swift's ContainerSyncRealms. */
  name: string;
  key: string;
  key2?: string;
  /** Upper-cased cluster name → endpoint ("http://127.0.0.1:8000/object-store/v1/"). */
  clusters: Map<string, string>;
}

export type SyncRealms = Map<string, SyncRealm>;

export class RealmsConfigError extends ConfigError {}

/**
 * The endpoint `self` stands for: this server's Swift API over loopback. A wildcard or
 * non-loopback bind address is still reachable on 127.0.0.1 (or ::1) at the same port.
 */
export function selfSyncEndpoint(bind: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(bind.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? m[3] : '8000';
  const loopback = host === '::' || host === '::1' ? '[::1]' : isLoopbackHost(host) ? host : '127.0.0.1';
  return `http://${loopback}:${port}/object-store/v1/`;
}

/** True for hosts this server may contact: 127.0.0.0/8, ::1, localhost (brackets allowed). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * The inline realms option: `REALM: key=K [key2=K2] cluster_NAME=URL ...`, realms separated by
 * `;` (the sections and options of container-sync-realms.conf). An endpoint `self` stands for
 * `selfEndpoint`, this server's own Swift API.
 */
export function parseRealms(text: string, selfEndpoint: string): SyncRealms {
  const realms: SyncRealms = new Map();
  for (const chunk of text.split(';')) {
    if (!chunk.trim()) continue;
    const colon = chunk.indexOf(':');
    const name = (colon < 0 ? '' : chunk.slice(0, colon)).trim();
    if (!name || /[\s/]/.test(name)) throw new RealmsConfigError(`container_sync_realms: "${chunk.trim()}" must start with "<realm>:"`);
    const realm: SyncRealm = { name: name.toUpperCase(), key: '', clusters: new Map() };
    for (const item of chunk.slice(colon + 1).trim().split(/\s+/).filter(Boolean)) {
      const eq = item.indexOf('=');
      const option = eq < 0 ? item : item.slice(0, eq).toLowerCase();
      const value = eq < 0 ? '' : item.slice(eq + 1);
      if (!value) throw new RealmsConfigError(`container_sync_realms: ${name}: "${item}" needs a value`);
      if (option === 'key') realm.key = value;
      else if (option === 'key2') realm.key2 = value;
      else if (option.startsWith('cluster_') && option.length > 8) {
        const endpoint = value === 'self' ? selfEndpoint : value;
        const url = parseHttpUrl(endpoint);
        if (!url) throw new RealmsConfigError(`container_sync_realms: ${name}: ${option} must be an http(s) URL, got "${value}"`);
        if (!isLoopbackHost(url.hostname)) throw new RealmsConfigError(`container_sync_realms: ${name}: ${option} must be a loopback URL (127.0.0.1, ::1, localhost), got "${value}"`);
        realm.clusters.set(option.slice(8).toUpperCase(), endpoint);
      } else throw new RealmsConfigError(`container_sync_realms: ${name}: unknown option "${option}" (key, key2, cluster_<name>)`);
    }
    if (!realm.key) throw new RealmsConfigError(`container_sync_realms: ${name}: key is required`);
    realms.set(realm.name, realm);
  }
  return realms;
}

function parseHttpUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Python's repr() of a str, as Swift's messages quote values with %r. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `${quote}${body}${quote}`;
}

/** Where a container syncs to, once X-Container-Sync-To is validated. */
export interface SyncTarget {
  /** The remote container's URL: "<endpoint>/<account>/<container>". */
  url: string;
  /** Realm style: the realm (upper-cased) and its key; full URLs have none. */
  realm?: string;
  realmKey?: string;
}

/**
 * Swift's validate_sync_to: the target of an X-Container-Sync-To value, or the 400 message
 * explaining why it is refused. Full URLs must name a loopback host (Swift's allowed_sync_hosts,
 * fixed here).
 */
export function validateSyncTo(value: string, realms: SyncRealms): { target: SyncTarget } | { error: string } {
  if (value.startsWith('//')) {
    const data = value.slice(2).split('/');
    if (data.length !== 4) return { error: `Invalid X-Container-Sync-To format ${pyRepr(value)}` };
    const [realmName, cluster, account, container] = data as [string, string, string, string];
    const realm = realms.get(realmName.toUpperCase());
    if (!realm) return { error: `No realm key for ${pyRepr(realmName)}` };
    const endpoint = realm.clusters.get(cluster.toUpperCase());
    if (!endpoint) return { error: `No cluster endpoint for ${pyRepr(realmName)} ${pyRepr(cluster)}` };
    return { target: { url: `${endpoint.replace(/\/+$/, '')}/${account}/${container}`, realm: realm.name, realmKey: realm.key } };
  }
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value);
  const scheme = parts ? parts[1]!.toLowerCase() : '';
  if (scheme !== 'http' && scheme !== 'https') return { error: `Invalid scheme ${pyRepr(scheme)} in X-Container-Sync-To, must be "//", "http", or "https".` };
  const rest = value.slice(scheme.length + 1);
  const netlocEnd = rest.startsWith('//') ? rest.slice(2).search(/[/?#;]/) : -1;
  const netloc = rest.startsWith('//') ? rest.slice(2, netlocEnd < 0 ? undefined : netlocEnd + 2) : '';
  const after = rest.startsWith('//') ? (netlocEnd < 0 ? '' : rest.slice(netlocEnd + 2)) : rest;
  const pathEnd = after.search(/[?#;]/);
  const path = pathEnd < 0 ? after : after.slice(0, pathEnd);
  if (!path) return { error: 'Path required in X-Container-Sync-To' };
  if (pathEnd >= 0) return { error: 'Params, queries, and fragments not allowed in X-Container-Sync-To' };
  if (!isLoopbackHost(hostnameOf(netloc))) return { error: `Invalid host ${pyRepr(hostnameOf(netloc))} in X-Container-Sync-To` };
  return { target: { url: value } };
}

/** Swift's ModifiedParseResult.hostname: user info dropped, IPv6 brackets removed, port cut. */
function hostnameOf(netloc: string): string {
  const host = netloc.slice(netloc.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(1).split(']')[0]!.toLowerCase();
  return host.split(':')[0]!.toLowerCase();
}

/** Python's urllib quote(s, safe='/') over UTF-8: the canonical form signatures are made over. */
export function swiftQuote(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The request path in canonical quoting, whatever escaping the client used. */
export function canonicalPath(rawPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    decoded = rawPath;
  }
  return swiftQuote(decoded);
}

/** ContainerSyncRealms.get_sig: HMAC-SHA1, keyed by the realm key, of method, path, X-Timestamp, nonce and the container's key. */
export function syncSignature(method: string, path: string, timestamp: string, nonce: string, realmKey: string, userKey: string): string {
  return createHmac('sha1', realmKey).update(`${method}\n${path}\n${timestamp}\n${nonce}\n${userKey}`).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
