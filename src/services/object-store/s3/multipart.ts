import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectInfo } from '../storage/types.js';
import {
  bodyOf,
  checkKey,
  doc,
  listAll,
  owner,
  quoteEtag,
  readXmlBody,
  requireBucket,
  s3ListingDate,
  segmentsContainer,
  sendXml,
  writeError,
  writeTimestamp,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { contentMd5, openCopySource, requestContentType, requestedHeaders, S3_ETAG_HEADER } from './objects.js';
import { child, childrenNamed, el, parseXml, XmlError } from './xml.js';

/**
 * Multipart uploads live in the hidden "<bucket>+segments" container, as in Swift's s3api:
 * "<key>/<uploadId>" is the upload's marker (an empty object carrying the final object's
 * content type and metadata) and "<key>/<uploadId>/<partNumber>" are its parts. Completing
 * streams the parts, in order, into one ordinary object, so GET/Range/copy of the result need
 * nothing special and never hold more than a chunk in memory; the parts are then removed.
 */
const MARKER_TYPE = 'application/x-nubes-s3-multipart-upload';
const CONTENT_TYPE_SYSMETA = 'x-object-sysmeta-s3api-content-type';
/** S3's limit on a whole object (5 TiB). */
const MAX_MULTIPART_OBJECT = 5 * 1024 ** 4;

const markerName = (key: string, uploadId: string): string => `${key}/${uploadId}`;
const partName = (key: string, uploadId: string, part: number): string => `${key}/${uploadId}/${part}`;

async function requireUpload(ctx: S3Context, uploadId: string): Promise<ObjectInfo> {
  await requireBucket(ctx);
  const info = /^[A-Za-z0-9_-]{1,64}$/.test(uploadId) ? await ctx.cluster.headObject(ctx.account, segmentsContainer(ctx.bucket), markerName(ctx.key, uploadId)) : null;
  if (!info || info.contentType !== MARKER_TYPE) throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  return info;
}

interface Part {
  number: number;
  etag: string;
  size: number;
  lastModified: string;
}

async function partsOf(ctx: S3Context, uploadId: string): Promise<Part[]> {
  const prefix = `${markerName(ctx.key, uploadId)}/`;
  const parts: Part[] = [];
  for await (const row of listAll(ctx.cluster, ctx.account, segmentsContainer(ctx.bucket), prefix)) {
    const n = row.name.slice(prefix.length);
    if (/^[1-9]\d*$/.test(n)) parts.push({ number: Number(n), etag: row.hash, size: row.bytes, lastModified: row.lastModified });
  }
  return parts.sort((a, b) => a.number - b.number);
}

/** Removes an upload's parts, then its marker (so a half-done cleanup still lists the upload). */
async function removeUpload(ctx: S3Context, uploadId: string): Promise<void> {
  const segments = segmentsContainer(ctx.bucket);
  for (const p of await partsOf(ctx, uploadId)) await ctx.cluster.deleteObject(ctx.account, segments, partName(ctx.key, uploadId, p.number), writeTimestamp(ctx));
  await ctx.cluster.deleteObject(ctx.account, segments, markerName(ctx.key, uploadId), writeTimestamp(ctx));
}

/** POST /bucket/key?uploads (CreateMultipartUpload). */
export async function createUpload(ctx: S3Context): Promise<void> {
  checkKey(ctx.key);
  await requireBucket(ctx);
  const headers = requestedHeaders(ctx);
  headers[CONTENT_TYPE_SYSMETA] = requestContentType(ctx);
  const segments = segmentsContainer(ctx.bucket);
  await ctx.cluster.putContainer(ctx.account, segments, { set: {} }, writeTimestamp(ctx));
  const uploadId = randomBytes(24).toString('base64url');
  await ctx.cluster.putObject(ctx.account, segments, markerName(ctx.key, uploadId), Readable.from([]), {
    timestamp: writeTimestamp(ctx),
    contentType: MARKER_TYPE,
    contentLength: 0,
    headers,
    maxSize: 0,
  });
  sendXml(ctx.reply, 200, doc('InitiateMultipartUploadResult', el('Bucket', ctx.bucket) + el('Key', ctx.key) + el('UploadId', uploadId)));
}

function partNumber(ctx: S3Context): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  if (n < 1 || n > ctx.config.maxPartNumber) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${ctx.config.maxPartNumber}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

/** PUT /bucket/key?partNumber&uploadId (UploadPart, or UploadPartCopy with x-amz-copy-source). */
export async function uploadPart(ctx: S3Context, uploadId: string): Promise<void> {
  const n = partNumber(ctx);
  await requireUpload(ctx, uploadId);
  const copySource = ctx.request.headers['x-amz-copy-source'];
  const target = partName(ctx.key, uploadId, n);
  const segments = segmentsContainer(ctx.bucket);
  if (typeof copySource === 'string') {
    bodyOf(ctx).stream.resume();
    const rangeHeader = ctx.request.headers['x-amz-copy-source-range'];
    const range = typeof rangeHeader === 'string' ? rangeHeader : undefined;
    const src = await openCopySource(ctx, copySource, range);
    let info: ObjectInfo;
    try {
      info = await ctx.cluster.putObject(ctx.account, segments, target, src.body, {
        timestamp: writeTimestamp(ctx),
        contentType: 'application/octet-stream',
        contentLength: src.size,
        headers: {},
        maxSize: ctx.config.maxObjectSize,
      });
    } catch (err) {
      throw writeError(err, undefined);
    }
    sendXml(ctx.reply, 200, doc('CopyPartResult', el('LastModified', info.lastModified.toISOString()) + el('ETag', quoteEtag(info.etag))));
    return;
  }
  const etag = contentMd5(ctx);
  const { stream, check } = bodyOf(ctx);
  let info: ObjectInfo;
  try {
    info = await ctx.cluster.putObject(ctx.account, segments, target, stream, {
      timestamp: writeTimestamp(ctx),
      contentType: 'application/octet-stream',
      contentLength: ctx.auth.contentLength,
      etag,
      headers: {},
      maxSize: ctx.config.maxObjectSize,
    });
  } catch (err) {
    stream.resume();
    throw writeError(err, check);
  }
  ctx.reply.code(200).header('etag', quoteEtag(info.etag)).send();
}

function boundedInt(ctx: S3Context, name: string, fallback: number): number {
  const raw = ctx.query.get(name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2147483647) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(Number(raw), ctx.config.maxListing);
}

/** GET /bucket/key?uploadId (ListParts). */
export async function listParts(ctx: S3Context, uploadId: string): Promise<void> {
  await requireUpload(ctx, uploadId);
  const maxParts = boundedInt(ctx, 'max-parts', ctx.config.maxListing);
  const after = boundedInt(ctx, 'part-number-marker', 0);
  const remaining = (await partsOf(ctx, uploadId)).filter((p) => p.number > after);
  const page = remaining.slice(0, maxParts);
  const truncated = remaining.length > page.length;
  const id = ctx.auth.principal.projectId;
  const parts = page.map((p) => `<Part>${el('PartNumber', p.number)}${el('LastModified', s3ListingDate(p.lastModified))}${el('ETag', quoteEtag(p.etag))}${el('Size', p.size)}</Part>`).join('');
  const last = page[page.length - 1];
  sendXml(
    ctx.reply,
    200,
    doc(
      'ListPartsResult',
      el('Bucket', ctx.bucket) +
        el('Key', ctx.key) +
        el('UploadId', uploadId) +
        `<Initiator>${el('ID', id)}${el('DisplayName', id)}</Initiator>` +
        owner(ctx) +
        '<StorageClass>STANDARD</StorageClass>' +
        el('PartNumberMarker', after) +
        el('NextPartNumberMarker', last ? last.number : after) +
        el('MaxParts', maxParts) +
        el('IsTruncated', truncated) +
        parts,
    ),
  );
}

/** DELETE /bucket/key?uploadId (AbortMultipartUpload). */
export async function abortUpload(ctx: S3Context, uploadId: string): Promise<void> {
  await requireUpload(ctx, uploadId);
  await removeUpload(ctx, uploadId);
  ctx.reply.code(204).send();
}

function parseCompletion(body: string): { number: number; etag: string }[] {
  try {
    const root = parseXml(body);
    if (root.name !== 'CompleteMultipartUpload') throw new XmlError('unexpected root');
    return childrenNamed(root, 'Part').map((p) => {
      const num = child(p, 'PartNumber')?.text.trim() ?? '';
      const etag = child(p, 'ETag')?.text.trim();
      if (!/^\d{1,9}$/.test(num) || etag === undefined) throw new XmlError('bad Part');
      return { number: Number(num), etag: etag.replace(/^"(.*)"$/, '$1').toLowerCase() };
    });
  } catch (err) {
    if (err instanceof XmlError) throw new S3Error('MalformedXML');
    throw err;
  }
}

/** POST /bucket/key?uploadId (CompleteMultipartUpload). */
export async function completeUpload(ctx: S3Context, uploadId: string): Promise<void> {
  const marker = await requireUpload(ctx, uploadId);
  const wanted = parseCompletion(await readXmlBody(ctx, 4 * 1024 * 1024));
  if (wanted.length === 0) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  for (let i = 1; i < wanted.length; i++) {
    if ((wanted[i] as { number: number }).number <= (wanted[i - 1] as { number: number }).number) throw new S3Error('InvalidPartOrder', undefined, { UploadId: uploadId });
  }
  const stored = new Map((await partsOf(ctx, uploadId)).map((p) => [p.number, p]));
  const chosen: Part[] = [];
  wanted.forEach((w, i) => {
    const part = stored.get(w.number);
    if (!part || part.etag !== w.etag) throw new S3Error('InvalidPart', undefined, { UploadId: uploadId, PartNumber: String(w.number), ETag: w.etag });
    if (i < wanted.length - 1 && part.size < ctx.config.minPartSize) {
      throw new S3Error('EntityTooSmall', undefined, { ProposedSize: String(part.size), MinSizeAllowed: String(ctx.config.minPartSize), PartNumber: String(w.number), ETag: w.etag });
    }
    chosen.push(part);
  });
  const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')));
  const s3etag = `${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`;
  const size = chosen.reduce((sum, p) => sum + p.size, 0);
  const segments = segmentsContainer(ctx.bucket);
  const { cluster, account } = ctx;
  const key = ctx.key;
  async function* concatenated(): AsyncGenerator<Buffer> {
    for (const p of chosen) {
      const got = await cluster.getObject(account, segments, partName(key, uploadId, p.number));
      if (!got) throw new S3Error('InvalidPart', undefined, { UploadId: uploadId, PartNumber: String(p.number) });
      for await (const chunk of got.body) yield chunk as Buffer;
    }
  }
  const headers: Record<string, string> = { [S3_ETAG_HEADER]: s3etag };
  for (const [k, v] of Object.entries(marker.headers)) if (k !== CONTENT_TYPE_SYSMETA && !k.startsWith('x-object-sysmeta-')) headers[k] = v;
  const source = Readable.from(concatenated());
  try {
    await cluster.putObject(account, ctx.bucket, key, source, {
      timestamp: writeTimestamp(ctx),
      contentType: marker.headers[CONTENT_TYPE_SYSMETA] ?? 'binary/octet-stream',
      contentLength: size,
      headers,
      maxSize: MAX_MULTIPART_OBJECT,
    });
  } catch (err) {
    source.destroy();
    throw writeError(err, undefined);
  }
  await removeUpload(ctx, uploadId);
  const host = ctx.request.headers.host ?? 'localhost';
  const location = `${ctx.request.protocol}://${host}${ctx.request.url.split('?')[0] ?? ''}`;
  sendXml(ctx.reply, 200, doc('CompleteMultipartUploadResult', el('Location', location) + el('Bucket', ctx.bucket) + el('Key', key) + el('ETag', quoteEtag(s3etag))));
}

/** GET /bucket?uploads (ListMultipartUploads). */
export async function listUploads(ctx: S3Context): Promise<void> {
  await requireBucket(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const idMarker = ctx.query.get('upload-id-marker') ?? '';
  const maxUploads = boundedInt(ctx, 'max-uploads', ctx.config.maxListing);
  const uploads: { key: string; id: string; initiated: string }[] = [];
  for await (const row of listAll(ctx.cluster, ctx.account, segmentsContainer(ctx.bucket), prefix || undefined)) {
    if (row.contentType !== MARKER_TYPE) continue;
    const slash = row.name.lastIndexOf('/');
    uploads.push({ key: row.name.slice(0, slash), id: row.name.slice(slash + 1), initiated: row.lastModified });
  }
  uploads.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const after = uploads.filter((u) => u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.id > idMarker));
  const items: string[] = [];
  const prefixes = new Set<string>();
  let count = 0;
  let truncated = false;
  let last: { key: string; id: string } | undefined;
  for (const u of after) {
    const rest = u.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const common = cut >= 0 && delimiter ? prefix + rest.slice(0, cut + delimiter.length) : undefined;
    if (common !== undefined && prefixes.has(common)) continue;
    if (count >= maxUploads) {
      truncated = true;
      break;
    }
    count++;
    last = u;
    if (common !== undefined) {
      prefixes.add(common);
      continue;
    }
    const id = ctx.auth.principal.projectId;
    items.push(`<Upload>${el('Key', u.key)}${el('UploadId', u.id)}<Initiator>${el('ID', id)}${el('DisplayName', id)}</Initiator>${owner(ctx)}<StorageClass>STANDARD</StorageClass>${el('Initiated', s3ListingDate(u.initiated))}</Upload>`);
  }
  const commons = [...prefixes].map((p) => `<CommonPrefixes>${el('Prefix', p)}</CommonPrefixes>`).join('');
  sendXml(
    ctx.reply,
    200,
    doc(
      'ListMultipartUploadsResult',
      el('Bucket', ctx.bucket) +
        el('KeyMarker', keyMarker) +
        el('UploadIdMarker', idMarker) +
        (truncated && last ? el('NextKeyMarker', last.key) + el('NextUploadIdMarker', last.id) : '') +
        (delimiter ? el('Delimiter', delimiter) : '') +
        el('Prefix', prefix) +
        el('MaxUploads', maxUploads) +
        el('IsTruncated', truncated) +
        items.join('') +
        commons,
    ),
  );
}
