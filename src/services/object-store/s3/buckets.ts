import type { ObjectListing } from '../storage/types.js';
import {
  checkBucketName,
  doc,
  listAll,
  owner,
  quoteEtag,
  readXmlBody,
  requireBucket,
  s3ListingDate,
  segmentsContainer,
  sendXml,
  writeTimestamp,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { child, el, parseXml, XmlError } from './xml.js';

/** GET / (ListBuckets): the project's containers, segment containers hidden. */
export async function listBuckets(ctx: S3Context): Promise<void> {
  const rows: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await ctx.cluster.listContainers(ctx.account, { marker, limit: 1000 });
    for (const c of page) {
      if (!('name' in c)) continue;
      if (c.name.endsWith('+segments')) continue;
      rows.push(`<Bucket>${el('Name', c.name)}${el('CreationDate', s3ListingDate(c.lastModified))}</Bucket>`);
    }
    const last = page[page.length - 1];
    if (!last || !('name' in last) || page.length < 1000) break;
    marker = last.name;
  }
  sendXml(ctx.reply, 200, doc('ListAllMyBucketsResult', `${owner(ctx)}<Buckets>${rows.join('')}</Buckets>`));
}

/** PUT /bucket (CreateBucket), with an optional CreateBucketConfiguration naming the region. */
export async function createBucket(ctx: S3Context): Promise<void> {
  checkBucketName(ctx.bucket, true);
  const body = await readXmlBody(ctx, 64 * 1024);
  if (body.trim()) {
    let location: string | undefined;
    try {
      const root = parseXml(body);
      if (root.name !== 'CreateBucketConfiguration') throw new XmlError('unexpected root');
      location = child(root, 'LocationConstraint')?.text.trim();
    } catch (err) {
      if (err instanceof XmlError) throw new S3Error('MalformedXML');
      throw err;
    }
    // us-east-1 is also spelled as an empty constraint.
    if (location && location !== ctx.config.location && !(ctx.config.location === 'us-east-1' && location === '')) {
      throw new S3Error('InvalidLocationConstraint', `The specified location-constraint is not valid: ${location}`, { LocationConstraint: location });
    }
  }
  const acl = ctx.request.headers['x-amz-acl'];
  if (acl !== undefined && acl !== 'private') throw new S3Error('NotImplemented', 'Only the private canned ACL is supported.', { Header: 'x-amz-acl' });
  const { created } = await ctx.cluster.putContainer(ctx.account, ctx.bucket, { set: {} }, writeTimestamp(ctx));
  if (!created) throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: ctx.bucket });
  ctx.reply.code(200).header('location', `/${ctx.bucket}`).send();
}

export async function headBucket(ctx: S3Context): Promise<void> {
  const info = await ctx.cluster.headContainer(ctx.account, ctx.bucket);
  if (!info) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  ctx.reply.code(200).header('x-amz-bucket-region', ctx.config.location).send();
}

/** DELETE /bucket: 409 BucketNotEmpty while objects remain; unfinished uploads go with it. */
export async function deleteBucket(ctx: S3Context): Promise<void> {
  const result = await ctx.cluster.deleteContainer(ctx.account, ctx.bucket, writeTimestamp(ctx));
  if (result === 'not_found') throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  if (result === 'conflict') throw new S3Error('BucketNotEmpty', undefined, { BucketName: ctx.bucket });
  const segments = segmentsContainer(ctx.bucket);
  for await (const row of listAll(ctx.cluster, ctx.account, segments)) {
    await ctx.cluster.deleteObject(ctx.account, segments, row.name, writeTimestamp(ctx));
  }
  await ctx.cluster.deleteContainer(ctx.account, segments, writeTimestamp(ctx));
  ctx.reply.code(204).send();
}

export async function getBucketLocation(ctx: S3Context): Promise<void> {
  await requireBucket(ctx);
  // AWS answers an empty constraint for us-east-1.
  const location = ctx.config.location === 'us-east-1' ? '' : ctx.config.location;
  sendXml(ctx.reply, 200, `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${location}</LocationConstraint>`);
}

export async function getBucketVersioning(ctx: S3Context): Promise<void> {
  await requireBucket(ctx);
  sendXml(ctx.reply, 200, doc('VersioningConfiguration', ''));
}

/** GET ?acl on a bucket or object: the owner has FULL_CONTROL (the only ACL offered). */
export function ownerAcl(ctx: S3Context): void {
  const id = ctx.auth.principal.projectId;
  const grant = `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${el('ID', id)}${el('DisplayName', id)}</Grantee><Permission>FULL_CONTROL</Permission></Grant>`;
  sendXml(ctx.reply, 200, doc('AccessControlPolicy', `${owner(ctx)}<AccessControlList>${grant}</AccessControlList>`));
}

function intParam(ctx: S3Context, name: string, fallback: number): number {
  const raw = ctx.query.get(name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw) || Number(raw) < 0 || Number(raw) > 2147483647) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  return Math.min(Number(raw), ctx.config.maxListing);
}

function encodingType(ctx: S3Context): 'url' | undefined {
  const raw = ctx.query.get('encoding-type');
  if (raw === undefined) return undefined;
  if (raw !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: raw });
  return 'url';
}

/** S3's url encoding-type: like AWS, '/' stays as is and everything else is percent-encoded. */
const urlEncode = (s: string): string => encodeURIComponent(s).replaceAll('%2F', '/');

interface Page {
  entries: ObjectListing[];
  truncated: boolean;
}

/**
 * One page of a listing. Swift rolls everything under a common prefix into one `subdir` row,
 * and a marker equal to such a prefix would roll into it again, so that row is skipped.
 */
async function listPage(ctx: S3Context, prefix: string, delimiter: string | undefined, marker: string | undefined, maxKeys: number): Promise<Page> {
  if (maxKeys === 0) return { entries: [], truncated: false };
  const rows = await ctx.cluster.listObjects(ctx.account, ctx.bucket, { prefix: prefix || undefined, delimiter, marker, limit: maxKeys + 2 });
  if (!rows) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  const entries = rows.filter((r) => !('subdir' in r) || marker === undefined || r.subdir > marker);
  return { entries: entries.slice(0, maxKeys), truncated: entries.length > maxKeys };
}

function renderEntries(ctx: S3Context, entries: ObjectListing[], enc: 'url' | undefined, withOwner: boolean): string {
  const code = (s: string): string => (enc ? urlEncode(s) : s);
  let contents = '';
  let prefixes = '';
  for (const e of entries) {
    if ('subdir' in e) {
      prefixes += `<CommonPrefixes>${el('Prefix', code(e.subdir))}</CommonPrefixes>`;
      continue;
    }
    contents += `<Contents>${el('Key', code(e.name))}${el('LastModified', s3ListingDate(e.lastModified))}${el('ETag', quoteEtag(e.hash))}${el('Size', e.bytes)}${withOwner ? owner(ctx) : ''}<StorageClass>STANDARD</StorageClass></Contents>`;
  }
  return contents + prefixes;
}

const entryName = (e: ObjectListing): string => ('subdir' in e ? e.subdir : e.name);

/** GET /bucket (ListObjects, version 1). */
export async function listObjectsV1(ctx: S3Context): Promise<void> {
  const enc = encodingType(ctx);
  const maxKeys = intParam(ctx, 'max-keys', ctx.config.maxListing);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const marker = ctx.query.get('marker') || undefined;
  const page = await listPage(ctx, prefix, delimiter, marker, maxKeys);
  const code = (s: string): string => (enc ? urlEncode(s) : s);
  const last = page.entries[page.entries.length - 1];
  // AWS only returns NextMarker when a delimiter was given; clients use the last key otherwise.
  const next = page.truncated && delimiter && last ? el('NextMarker', code(entryName(last))) : '';
  const head =
    el('Name', ctx.bucket) +
    el('Prefix', code(prefix)) +
    el('Marker', code(marker ?? '')) +
    next +
    el('MaxKeys', maxKeys) +
    (delimiter ? el('Delimiter', code(delimiter)) : '') +
    (enc ? el('EncodingType', enc) : '') +
    el('IsTruncated', page.truncated);
  sendXml(ctx.reply, 200, doc('ListBucketResult', head + renderEntries(ctx, page.entries, enc, true)));
}

/** GET /bucket?list-type=2 (ListObjectsV2): opaque continuation tokens, KeyCount, fetch-owner. */
export async function listObjectsV2(ctx: S3Context): Promise<void> {
  const enc = encodingType(ctx);
  const maxKeys = intParam(ctx, 'max-keys', ctx.config.maxListing);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after');
  let marker = startAfter || undefined;
  if (token !== undefined) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!token || Buffer.from(decoded, 'utf8').toString('base64url') !== token.replace(/=+$/, '')) {
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    }
    marker = decoded;
  }
  const page = await listPage(ctx, prefix, delimiter, marker, maxKeys);
  const code = (s: string): string => (enc ? urlEncode(s) : s);
  const last = page.entries[page.entries.length - 1];
  const head =
    el('Name', ctx.bucket) +
    el('Prefix', code(prefix)) +
    (startAfter !== undefined ? el('StartAfter', code(startAfter)) : '') +
    (token !== undefined ? el('ContinuationToken', token) : '') +
    (page.truncated && last ? el('NextContinuationToken', Buffer.from(entryName(last), 'utf8').toString('base64url')) : '') +
    el('KeyCount', page.entries.length) +
    el('MaxKeys', maxKeys) +
    (delimiter ? el('Delimiter', code(delimiter)) : '') +
    (enc ? el('EncodingType', enc) : '') +
    el('IsTruncated', page.truncated);
  sendXml(ctx.reply, 200, doc('ListBucketResult', head + renderEntries(ctx, page.entries, enc, ctx.query.get('fetch-owner') === 'true')));
}
