import type { ContainerInfo } from '../storage/types.js';
import { header, isTrue, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { defaultBody } from './faults.js';
import { handleObject, objectHeaders } from './object.js';

/**
 * Static websites (Swift's staticweb middleware) for containers with X-Container-Meta-Web-Index
 * and/or -Web-Listings (+ -Web-Listings-CSS, -Web-Listings-Label, -Web-Error,
 * -Web-Directory-Type). Applies to anonymous GET/HEAD (an authenticated caller only with
 * X-Web-Mode: true) that passed the container's read ACL, so a site needs ".r:*" (and
 * ".rlistings" for its directories).
 */

interface WebConfig {
  index: string;
  error: string;
  listings: string;
  listingsLabel: string;
  listingsCss: string;
  dirType: string;
}

function webConfig(container: ContainerInfo): WebConfig {
  const m = (k: string): string => (container.metadata[`meta-${k}`] ?? '').trim();
  return { index: m('web-index'), error: m('web-error'), listings: m('web-listings'), listingsLabel: m('web-listings-label'), listingsCss: m('web-listings-css'), dirType: m('web-directory-type') || 'application/directory' };
}

const htmlEscape = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
const quote = (v: string): string => encodeURIComponent(v).replace(/%2F/g, '/');

/** Swift's human_readable: 1024-based with K/Ki... suffixes. */
function humanReadable(n: number): string {
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < suffixes.length - 1) {
    value = Math.round(value / 1024);
    i += 1;
  }
  return `${value}${suffixes[i]}`;
}

/** True when staticweb handles this request (the caller must not see the plain API answer). */
export function wantsStaticWeb(s: SwiftRequest): boolean {
  if (s.method !== 'GET' && s.method !== 'HEAD') return false;
  if (!s.path.container || !s.container) return false;
  if (s.caller.ctx && !isTrue(header(s, 'x-web-mode'))) return false;
  if (s.caller.signed) return false;
  return true;
}

/** 301 to the same path with a trailing slash. */
function redirectWithSlash(s: SwiftRequest, rawPath: string): void {
  s.reply.code(301).header('x-trans-id', s.request.id).header('location', `${rawPath}/`).header('content-type', 'text/html; charset=UTF-8');
  const body = defaultBody(301);
  s.reply.header('content-length', String(Buffer.byteLength(body))).send(s.method === 'HEAD' ? undefined : body);
}

/** An error answer, with the container's <status><web-error> page as body when that object exists. */
async function errorPage(api: ObjectStoreApi, s: SwiftRequest, web: WebConfig, status: number, fallback: string): Promise<void> {
  const { account, container } = s.path as Required<SwiftRequest['path']>;
  const page = web.error ? await api.cluster.getObject(account, container, `${status}${web.error}`) : null;
  s.reply.code(status).header('x-trans-id', s.request.id);
  if (page) {
    for (const [k, v] of Object.entries(objectHeaders(page.info))) s.reply.header(k, v);
    s.reply.header('content-type', page.info.contentType).header('content-length', String(page.info.size));
    if (s.method === 'HEAD') {
      page.body.destroy();
      return void s.reply.send();
    }
    return void s.reply.send(page.body);
  }
  s.reply.header('content-type', 'text/html; charset=UTF-8').header('content-length', String(Buffer.byteLength(fallback)));
  s.reply.send(s.method === 'HEAD' ? undefined : fallback);
}

function cssLink(web: WebConfig, prefix: string): string {
  const href = /^(\/|https?:\/\/)/.test(web.listingsCss) ? encodeURI(web.listingsCss) : '../'.repeat(prefix.split('/').length - 1) + quote(web.listingsCss);
  return `  <link rel="stylesheet" type="text/css" href="${href}" />\n`;
}

async function listing(api: ObjectStoreApi, s: SwiftRequest, web: WebConfig, label: string, prefix: string): Promise<void> {
  const { account, container } = s.path as Required<SwiftRequest['path']>;
  if (!isTrue(web.listings)) {
    let body = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n<html>\n<head>\n<title>Listing of ${htmlEscape(label)}</title>\n`;
    body += web.listingsCss ? cssLink(web, prefix) : '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n  </style>\n';
    body += '</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled web listing.   <p>If you are the owner of this web site, you can enable   web listing by setting X-Container-Meta-Web-Listings.</p>';
    if (web.index) body += `<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>X-Container-Meta-Web-Index: ${web.index}</b>.  However, this file is not found.</p>`;
    body += ' </body>\n</html>\n';
    return errorPage(api, s, web, 404, body);
  }
  const rows = (await api.cluster.listObjects(account, container, { delimiter: '/', limit: api.config.container_listing_limit, ...(prefix ? { prefix } : {}) })) ?? [];
  if (prefix && !rows.length) return errorPage(api, s, web, 404, defaultBody(404));
  let body = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n<html>\n <head>\n  <title>Listing of ${htmlEscape(label)}</title>\n`;
  body += web.listingsCss
    ? cssLink(web, prefix)
    : '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   th {text-align: left; padding: 0px 1em 0px 1em;}\n   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n';
  body += ` </head>\n <body>\n  <h1 id="title">Listing of ${htmlEscape(label)}</h1>\n  <table id="listing">\n   <tr id="heading">\n    <th class="colname">Name</th>\n    <th class="colsize">Size</th>\n    <th class="coldate">Date</th>\n   </tr>\n`;
  if (prefix) body += '   <tr id="parent" class="item">\n    <td class="colname"><a href="../">../</a></td>\n    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n';
  for (const row of rows) {
    if (!('subdir' in row)) continue;
    const sub = row.subdir.slice(prefix.length);
    body += `   <tr class="item subdir">\n    <td class="colname"><a href="${quote(sub)}">${htmlEscape(sub)}</a></td>\n    <td class="colsize">&nbsp;</td>\n    <td class="coldate">&nbsp;</td>\n   </tr>\n`;
  }
  for (const row of rows) {
    if ('subdir' in row) continue;
    const name = row.name.slice(prefix.length);
    const types = row.contentType.split('/').map((t) => `type-${htmlEscape(t.toLowerCase())}`).join(' ');
    const date = htmlEscape(row.lastModified).split('.')[0]?.replace('T', ' ') ?? '';
    body += `   <tr class="item ${types}">\n    <td class="colname"><a href="${quote(name)}">${htmlEscape(name)}</a></td>\n    <td class="colsize">${humanReadable(row.bytes)}</td>\n    <td class="coldate">${date}</td>\n   </tr>\n`;
  }
  body += '  </table>\n </body>\n</html>\n';
  s.reply.code(200).header('x-trans-id', s.request.id).header('content-type', 'text/html; charset=UTF-8').header('content-length', String(Buffer.byteLength(body)));
  s.reply.send(s.method === 'HEAD' ? undefined : body);
}

/** An object that exists and is not a directory marker. */
async function servable(api: ObjectStoreApi, s: SwiftRequest, web: WebConfig, object: string): Promise<boolean> {
  const info = await api.cluster.headObject(s.path.account, s.path.container as string, object);
  return Boolean(info) && !(info!.contentType === web.dirType && info!.size <= 1);
}

/**
 * Serves the request as a web site when the container is one; false when the plain API should
 * answer instead. `rawPath` is the client's (encoded) path, for redirects and labels.
 */
export async function serveStaticWeb(api: ObjectStoreApi, s: SwiftRequest, rawPath: string): Promise<boolean> {
  const web = webConfig(s.container as ContainerInfo);
  const decoded = decodeURIComponent(rawPath);
  const label = web.listingsLabel ? `${web.listingsLabel}/${decoded.split('/').slice(decoded.split('/').indexOf(s.path.account) + 2).join('/')}` : decoded.slice(decoded.search(/\/v1(\.0)?\//));
  const object = s.path.object;
  if (!object) {
    if (!web.listings && !web.index) {
      if (isTrue(header(s, 'x-web-mode'))) {
        await errorPage(api, s, { ...web, error: '' }, 404, defaultBody(404));
        return true;
      }
      return false;
    }
    if (!rawPath.endsWith('/')) return redirectWithSlash(s, rawPath), true;
    if (web.index && (await servable(api, s, web, web.index))) {
      await handleObject(api, { ...s, path: { ...s.path, object: web.index } });
      return true;
    }
    await listing(api, s, web, label, '');
    return true;
  }
  if (!web.listings && !web.index) return false;
  if (await servable(api, s, web, object)) return false;
  if (web.index) {
    const indexName = `${object.endsWith('/') ? object : `${object}/`}${web.index}`;
    if (await servable(api, s, web, indexName)) {
      if (!rawPath.endsWith('/')) return redirectWithSlash(s, rawPath), true;
      await handleObject(api, { ...s, path: { ...s.path, object: indexName } });
      return true;
    }
  }
  if (!rawPath.endsWith('/')) {
    const rows = (await api.cluster.listObjects(s.path.account, s.path.container as string, { prefix: `${object}/`, delimiter: '/', limit: 1 })) ?? [];
    if (!rows.length) await errorPage(api, s, web, 404, defaultBody(404));
    else redirectWithSlash(s, rawPath);
    return true;
  }
  await listing(api, s, web, label, object);
  return true;
}
