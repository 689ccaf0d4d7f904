import { createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ObjectStoreApi } from './context.js';
import { statusLine } from './faults.js';
import { MimeInvalid, iterMultipart, parseHeaderParams } from './multipart.js';
import type { PreAuthRequest } from './pre-auth.js';
import { subrequest, type SubResponse } from './subrequest.js';
import { parseSignature } from './tempurl.js';

/**
 * FormPOST (Swift's formpost middleware): a browser form, multipart/form-data POSTed to
 * /v1/<account>/<container>[/<prefix>], uploads its files as objects named prefix + filename.
 * The form is signed with a TempURL key: HMAC(key, "path\nredirect\nmax_file_size\n
 * max_file_count\nexpires"). Attributes must come before the files; each file is streamed into
 * a pre-authorized PUT subrequest, capped at max_file_size.
 */

const MAX_VALUE_LENGTH = 4096;

class FormInvalid extends Error {}
class FormUnauthorized extends Error {}
class FileTooLarge extends Error {}

/** multipart/form-data with a boundary: the request is a form post. */
export function formBoundary(method: string, contentType: string | undefined): string | undefined {
  if (method !== 'POST' || !contentType) return undefined;
  const { value, params } = parseHeaderParams(contentType);
  return value === 'multipart/form-data' && params.boundary ? params.boundary : undefined;
}

/** Python's str.title(), which Swift applies to FormPOST messages. */
function title(text: string): string {
  return text.replace(/[A-Za-z]+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
}

/** Counts an uploaded file's bytes and stops it past max_file_size. */
class Capped extends Transform {
  private bytes = 0;
  exceeded = false;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      this.exceeded = true;
      cb(new FileTooLarge('max_file_size exceeded'));
      return;
    }
    cb(null, chunk);
  }
}

async function tempUrlKeys(api: ObjectStoreApi, r: PreAuthRequest): Promise<string[]> {
  if (!r.path.container) return [];
  const account = await api.cluster.headAccount(r.account);
  const container = await api.cluster.headContainer(r.account, r.path.container);
  const meta = [account?.metadata, container?.metadata];
  return meta.flatMap((m) => [m?.['meta-temp-url-key'], m?.['meta-temp-url-key-2']]).filter((k): k is string => Boolean(k));
}

/** The signed path as Swift sees it ("/v1/..."), and as the client saw it (with the service prefix). */
function signedPaths(r: PreAuthRequest): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(r.rawPath);
  } catch {
    return [];
  }
  const at = decoded.search(/\/v1(\.0)?\//);
  return at > 0 ? [decoded.slice(at), decoded] : [decoded];
}

function checkSignature(attributes: Record<string, string>, keys: string[], paths: string[], now: number): void {
  if (!keys.length) throw new FormUnauthorized('invalid signature');
  const expires = attributes.expires || '0';
  if (!/^-?\d+$/.test(expires.trim())) throw new FormInvalid('expired not an integer');
  if (Number(expires) < now) throw new FormUnauthorized('form expired');
  const parsed = parseSignature(attributes.signature ?? '');
  if (!parsed) throw new FormUnauthorized('invalid signature');
  const [algo, digest] = parsed;
  for (const key of keys) {
    for (const path of paths) {
      const body = `${path}\n${attributes.redirect ?? ''}\n${attributes.max_file_size || '0'}\n${attributes.max_file_count || '0'}\n${expires}`;
      const expected = createHmac(algo, key).update(body).digest();
      if (expected.length === digest.length && timingSafeEqual(expected, digest)) return;
    }
  }
  throw new FormUnauthorized('invalid signature');
}

function integerAttribute(attributes: Record<string, string>, name: string, message: string): number | undefined {
  const value = attributes[name];
  if (value === undefined) return undefined;
  if (!/^\s*-?\d+\s*$/.test(value)) throw new FormInvalid(message);
  return Number(value);
}

async function readValue(body: AsyncIterable<Buffer | string>): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    if (size < MAX_VALUE_LENGTH) parts.push(b.subarray(0, MAX_VALUE_LENGTH - size));
    size += b.length;
  }
  // Swift strips trailing CR, LF and dashes off every value
  return Buffer.concat(parts).toString('utf8').replace(/[\r\n-]+$/, '');
}

interface FormOutcome {
  status: number;
  message: string;
  response?: SubResponse;
  redirect?: string;
}

async function translateForm(api: ObjectStoreApi, r: PreAuthRequest, boundary: string): Promise<FormOutcome> {
  const keys = await tempUrlKeys(api, r);
  const attributes: Record<string, string> = {};
  let files = 0;
  let outcome: FormOutcome | undefined;
  for await (const part of iterMultipart(r.request.raw, boundary)) {
    const disposition = parseHeaderParams(part.headers['content-disposition'] ?? '');
    if (disposition.value !== 'form-data' || !disposition.params.filename) {
      const value = await readValue(part.body);
      if (disposition.params.name) attributes[disposition.params.name.toLowerCase()] = value;
      continue;
    }
    files += 1;
    const maxCount = integerAttribute(attributes, 'max_file_count', 'max_file_count not an integer') ?? 0;
    if (files > maxCount) {
      outcome = { status: 400, message: 'max file count exceeded' };
      break;
    }
    const fileAttributes = { ...attributes };
    if (!('content-type' in attributes) && 'content-type' in part.headers) fileAttributes['content-type'] = part.headers['content-type'] || 'application/octet-stream';
    if (!('content-encoding' in attributes) && 'content-encoding' in part.headers) fileAttributes['content-encoding'] = part.headers['content-encoding'] ?? '';
    const response = await uploadFile(api, r, fileAttributes, disposition.params.filename || 'filename', part.body, keys);
    outcome = { status: response.status, message: '', response };
    if (response.status < 200 || response.status >= 300) break;
  }
  return { ...(outcome ?? { status: 400, message: 'no files to process' }), ...(attributes.redirect ? { redirect: attributes.redirect } : {}) };
}

async function uploadFile(api: ObjectStoreApi, r: PreAuthRequest, attributes: Record<string, string>, filename: string, body: NodeJS.ReadableStream, keys: string[]): Promise<SubResponse> {
  if (!keys.length) throw new FormUnauthorized('invalid signature');
  const maxSize = integerAttribute(attributes, 'max_file_size', 'max_file_size not an integer') ?? 0;
  const headers: Record<string, string> = { 'transfer-encoding': 'chunked' };
  const deleteAt = integerAttribute(attributes, 'x_delete_at', 'x_delete_at not an integer: Unix timestamp required.');
  if (deleteAt !== undefined) headers['x-delete-at'] = String(deleteAt);
  const deleteAfter = integerAttribute(attributes, 'x_delete_after', 'x_delete_after not an integer: Number of seconds required.');
  if (deleteAfter !== undefined) headers['x-delete-after'] = String(deleteAfter);
  if ('content-type' in attributes) headers['content-type'] = attributes['content-type'] || 'application/octet-stream';
  if ('content-encoding' in attributes) headers['content-encoding'] = attributes['content-encoding'] ?? '';
  checkSignature(attributes, keys, signedPaths(r), Math.floor(api.service.now().getTime() / 1000));
  const capped = new Capped(maxSize);
  body.pipe(capped);
  const container = r.path.container as string;
  const object = `${r.path.object ?? ''}${filename}`;
  const response = await subrequest(api, { method: 'PUT', path: { account: r.account, container, object }, headers, body: capped, env: { caller: { owner: false, reseller: false, signed: true } } });
  if (capped.exceeded) throw new FileTooLarge('max_file_size exceeded');
  return response;
}

function send(r: PreAuthRequest, status: number, body: string, headers: Record<string, string>): void {
  r.reply.code(status).header('x-trans-id', r.request.id);
  for (const [k, v] of Object.entries(headers)) r.reply.header(k, v);
  r.reply.header('content-length', String(Buffer.byteLength(body))).send(body);
}

export async function formPost(api: ObjectStoreApi, r: PreAuthRequest, boundary: string): Promise<void> {
  let outcome: FormOutcome;
  try {
    outcome = await translateForm(api, r, boundary);
  } catch (err) {
    if (err instanceof MimeInvalid) return send(r, 400, 'FormPost: invalid starting boundary', { 'content-type': 'text/plain' });
    if (err instanceof FormInvalid || err instanceof FileTooLarge) return send(r, 400, `FormPost: ${err.message}`, { 'content-type': 'text/plain' });
    if (err instanceof FormUnauthorized) return send(r, 401, `FormPost: ${title(err.message)}`, { 'content-type': 'text/html; charset=UTF-8' });
    throw err;
  }
  const line = statusLine(outcome.status);
  const cors: Record<string, string> = {};
  for (const [k, v] of Object.entries(outcome.response?.headers ?? {})) if (k.startsWith('access-control')) cors[k] = v;
  if (!outcome.redirect) {
    let body = outcome.message ? `${line}\r\nFormPost: ${title(outcome.message)}` : line;
    const ok = outcome.status >= 200 && outcome.status < 300;
    if (!ok && outcome.response?.body) body = outcome.response.body;
    return send(r, outcome.status, body, { ...cors, 'content-type': 'text/plain' });
  }
  const location = `${outcome.redirect}${outcome.redirect.includes('?') ? '&' : '?'}status=${encodeURIComponent(String(outcome.status))}&message=${encodeURIComponent(outcome.message)}`;
  const html = `<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`;
  send(r, 303, html, { ...cors, location, 'content-type': 'text/html; charset=UTF-8' });
}
