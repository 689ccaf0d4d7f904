import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../storage/types.js';
import {
  bodyOf,
  checkBucketName,
  checkKey,
  doc,
  quoteEtag,
  readXmlBody,
  requireBucket,
  sendXml,
  writeError,
  writeTimestamp,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { child, childrenNamed, el, parseXml, XmlError } from './xml.js';

/** Sysmeta that keeps a multipart object's S3 ETag ("<md5 of part md5s>-N"), as s3api names it. */
export const S3_ETAG_HEADER = 'x-object-sysmeta-s3api-etag';

/** Object headers S3 lets a client set besides x-amz-meta-*; stored under the same names. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const MAX_USER_META = 2048;

/** The storage headers an upload's request asks for (x-amz-meta-* → x-object-meta-*). */
export function requestedHeaders(ctx: S3Context): Record<string, string> {
  const out: Record<string, string> = {};
  let metaSize = 0;
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    if (value === undefined) continue;
    const v = Array.isArray(value) ? value.join(',') : value;
    if (name.startsWith('x-amz-meta-')) {
      const short = name.slice('x-amz-meta-'.length);
      metaSize += short.length + Buffer.byteLength(v);
      out[`x-object-meta-${short}`] = v;
    } else if (STORED_HEADERS.includes(name)) {
      // aws-chunked is the transfer framing, not the object's encoding.
      const kept = name === 'content-encoding' ? v.split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked').join(', ') : v;
      if (kept) out[name] = kept;
    }
  }
  if (metaSize > MAX_USER_META) throw new S3Error('MetadataTooLarge', undefined, { Size: String(metaSize), MaxSizeAllowed: String(MAX_USER_META) });
  return out;
}

export function requestContentType(ctx: S3Context): string {
  const ct = ctx.request.headers['content-type'];
  return typeof ct === 'string' && ct ? ct : 'binary/octet-stream';
}

/** Content-MD5 (base64 of 16 bytes) as the hex ETag storage verifies; InvalidDigest otherwise. */
export function contentMd5(ctx: S3Context): string | undefined {
  const raw = ctx.request.headers['content-md5'];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? (raw[0] ?? '') : raw;
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || bytes.length !== 16) throw new S3Error('InvalidDigest');
  return bytes.toString('hex');
}

export function s3Etag(info: ObjectInfo): string {
  return quoteEtag(info.headers[S3_ETAG_HEADER] ?? info.etag);
}

/** PUT /bucket/key (PutObject). */
export async function putObject(ctx: S3Context): Promise<void> {
  checkKey(ctx.key);
  const headers = requestedHeaders(ctx);
  const etag = contentMd5(ctx);
  const { stream, check } = bodyOf(ctx);
  let info: ObjectInfo;
  try {
    info = await ctx.cluster.putObject(ctx.account, ctx.bucket, ctx.key, stream, {
      timestamp: writeTimestamp(ctx),
      contentType: requestContentType(ctx),
      contentLength: ctx.auth.contentLength,
      etag,
      headers,
      maxSize: ctx.config.maxObjectSize,
    });
  } catch (err) {
    stream.resume();
    throw writeError(err, check);
  }
  ctx.reply.code(200).header('etag', s3Etag(info)).send();
}

function objectHeaders(info: ObjectInfo): Record<string, string> {
  const out: Record<string, string> = {
    etag: s3Etag(info),
    'last-modified': info.lastModified.toUTCString(),
    'content-type': info.contentType,
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(info.headers)) {
    if (k.startsWith('x-object-meta-')) out[`x-amz-meta-${k.slice('x-object-meta-'.length)}`] = v;
    else if (STORED_HEADERS.includes(k)) out[k] = v;
  }
  return out;
}

const etagList = (h: string): string[] => h.split(',').map((s) => s.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1'));
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * HTTP preconditions in RFC 7232 order. `copy` uses the x-amz-copy-source-if-* forms, which
 * all fail with 412.
 */
export function checkConditions(get: (name: string) => string | undefined, info: ObjectInfo, copy: boolean): 'ok' | 'not_modified' {
  const prefix = copy ? 'x-amz-copy-source-' : '';
  const etag = (info.headers[S3_ETAG_HEADER] ?? info.etag).replace(/^"(.*)"$/, '$1');
  const ifMatch = get(`${prefix}if-match`);
  const ifNoneMatch = get(`${prefix}if-none-match`);
  const ifModified = get(`${prefix}if-modified-since`);
  const ifUnmodified = get(`${prefix}if-unmodified-since`);
  const fail = (): never => {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  };
  if (ifMatch !== undefined) {
    const tags = etagList(ifMatch);
    if (!tags.includes('*') && !tags.includes(etag)) fail();
  } else if (ifUnmodified !== undefined) {
    const d = new Date(ifUnmodified);
    if (!Number.isNaN(d.getTime()) && seconds(info.lastModified) > seconds(d)) fail();
  }
  if (ifNoneMatch !== undefined) {
    const tags = etagList(ifNoneMatch);
    if (tags.includes('*') || tags.includes(etag)) {
      if (copy) fail();
      return 'not_modified';
    }
  } else if (ifModified !== undefined) {
    const d = new Date(ifModified);
    if (!Number.isNaN(d.getTime()) && seconds(info.lastModified) <= seconds(d)) {
      if (copy) fail();
      return 'not_modified';
    }
  }
  return 'ok';
}

/** A single `bytes=` range resolved against the size; undefined means the whole object. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or a syntax S3 does not understand: the whole object, as AWS answers.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: String(size) });
    start = Math.max(0, size - suffix);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(Number(m[2]) + 1, size);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: String(size) });
  return { start, end };
}

function headerGetter(ctx: S3Context): (name: string) => string | undefined {
  return (name) => {
    const v = ctx.request.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
}

/** response-* query parameters of a GET override the stored headers. */
const RESPONSE_OVERRIDES = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-type', 'expires'];

/** GET and HEAD /bucket/key. */
export async function getObject(ctx: S3Context, head: boolean): Promise<void> {
  checkKey(ctx.key);
  const info = await ctx.cluster.headObject(ctx.account, ctx.bucket, ctx.key);
  if (!info) {
    if (!(await ctx.cluster.headContainer(ctx.account, ctx.bucket))) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
  const headers = objectHeaders(info);
  if (checkConditions(headerGetter(ctx), info, false) === 'not_modified') {
    ctx.reply.code(304).headers({ etag: headers.etag, 'last-modified': headers['last-modified'] }).send();
    return;
  }
  if (!head) {
    for (const name of RESPONSE_OVERRIDES) {
      const v = ctx.query.get(`response-${name}`);
      if (v !== undefined) headers[name] = v;
    }
  }
  const range = parseRange(headerGetter(ctx)('range'), info.size);
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end - 1}/${info.size}`;
  headers['content-length'] = String(range ? range.end - range.start : info.size);
  ctx.reply.code(range ? 206 : 200).headers(headers);
  if (head) {
    ctx.reply.send();
    return;
  }
  const got = await ctx.cluster.getObject(ctx.account, ctx.bucket, ctx.key, range);
  if (!got) throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  ctx.reply.send(got.body);
}

/** DELETE /bucket/key: 204 whether or not the key existed. */
export async function deleteObject(ctx: S3Context): Promise<void> {
  checkKey(ctx.key);
  await requireBucket(ctx);
  await ctx.cluster.deleteObject(ctx.account, ctx.bucket, ctx.key, writeTimestamp(ctx));
  ctx.reply.code(204).send();
}

/** POST /bucket?delete (DeleteObjects): per-key results, Quiet leaves out the successes. */
export async function deleteObjects(ctx: S3Context): Promise<void> {
  await requireBucket(ctx);
  const md5 = contentMd5(ctx);
  const body = await readXmlBody(ctx, 2 * 1024 * 1024);
  if (md5 !== undefined && createHash('md5').update(body, 'utf8').digest('hex') !== md5) throw new S3Error('BadDigest');
  let keys: string[];
  let quiet: boolean;
  try {
    const root = parseXml(body);
    if (root.name !== 'Delete') throw new XmlError('unexpected root');
    quiet = child(root, 'Quiet')?.text.trim().toLowerCase() === 'true';
    keys = childrenNamed(root, 'Object').map((o) => {
      const key = child(o, 'Key');
      if (!key) throw new XmlError('Object without Key');
      return key.text;
    });
  } catch (err) {
    if (err instanceof XmlError) throw new S3Error('MalformedXML');
    throw err;
  }
  if (keys.length === 0 || keys.length > ctx.config.maxMultiDelete) throw new S3Error('MalformedXML');
  let out = '';
  for (const key of keys) {
    try {
      checkKey(key);
      if (!key) throw new S3Error('InvalidArgument', 'The key must not be empty.');
      await ctx.cluster.deleteObject(ctx.account, ctx.bucket, key, writeTimestamp(ctx));
      if (!quiet) out += `<Deleted>${el('Key', key)}</Deleted>`;
    } catch (err) {
      const e = err instanceof S3Error ? err : new S3Error('InternalError');
      out += `<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`;
    }
  }
  sendXml(ctx.reply, 200, doc('DeleteResult', out));
}

/** x-amz-copy-source: "[/]bucket/key[?versionId=…]", URL-encoded. */
export function parseCopySource(raw: string): { bucket: string; key: string } {
  let source = raw;
  const q = source.indexOf('?');
  if (q >= 0) {
    const version = new URLSearchParams(source.slice(q + 1)).get('versionId');
    if (version !== null && version !== 'null') throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId' });
    source = source.slice(0, q);
  }
  try {
    source = decodeURIComponent(source);
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  if (source.startsWith('/')) source = source.slice(1);
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  const bucket = source.slice(0, slash);
  const key = source.slice(slash + 1);
  checkBucketName(bucket, false);
  checkKey(key);
  return { bucket, key };
}

/** Opens a copy source after its preconditions, for CopyObject and UploadPartCopy. */
export async function openCopySource(ctx: S3Context, raw: string, range?: string): Promise<{ info: ObjectInfo; body: Readable; size: number }> {
  const src = parseCopySource(raw);
  const info = await ctx.cluster.headObject(ctx.account, src.bucket, src.key);
  if (!info) {
    if (!(await ctx.cluster.headContainer(ctx.account, src.bucket))) throw new S3Error('NoSuchBucket', undefined, { BucketName: src.bucket });
    throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  }
  checkConditions(headerGetter(ctx), info, true);
  const r = parseRange(range, info.size);
  const got = await ctx.cluster.getObject(ctx.account, src.bucket, src.key, r);
  if (!got) throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  return { info, body: got.body, size: r ? r.end - r.start : info.size };
}

/** PUT /bucket/key with x-amz-copy-source (CopyObject), server side and streamed. */
export async function copyObject(ctx: S3Context, source: string): Promise<void> {
  checkKey(ctx.key);
  const directive = headerGetter(ctx)('x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: directive });
  const src = parseCopySource(source);
  if (src.bucket === ctx.bucket && src.key === ctx.key && directive === 'COPY') {
    throw new S3Error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  await requireBucket(ctx);
  // A copy carries no body of its own; drain whatever was sent so the connection stays usable.
  bodyOf(ctx).stream.resume();
  const { info, body, size } = await openCopySource(ctx, source);
  const replace = directive === 'REPLACE';
  const headers: Record<string, string> = {};
  if (replace) Object.assign(headers, requestedHeaders(ctx));
  else for (const [k, v] of Object.entries(info.headers)) if (k.startsWith('x-object-meta-') || STORED_HEADERS.includes(k)) headers[k] = v;
  let written: ObjectInfo;
  try {
    written = await ctx.cluster.putObject(ctx.account, ctx.bucket, ctx.key, body, {
      timestamp: writeTimestamp(ctx),
      contentType: replace ? requestContentType(ctx) : info.contentType,
      contentLength: size,
      etag: info.etag,
      headers,
      maxSize: ctx.config.maxObjectSize,
    });
  } catch (err) {
    throw writeError(err, undefined);
  }
  sendXml(ctx.reply, 200, doc('CopyObjectResult', el('LastModified', written.lastModified.toISOString()) + el('ETag', s3Etag(written))));
}
