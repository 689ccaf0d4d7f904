import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { StorageCluster } from '../storage/types.js';
import { StorageError } from '../storage/types.js';
import { newTimestamp } from '../storage/timestamp.js';
import type { S3Auth } from './auth.js';
import { S3Error } from './errors.js';
import type { PayloadCheck } from './payload.js';
import { readSmallBody } from './payload.js';
import { el, S3_NS, XML_DECL } from './xml.js';

/** Tunables of the S3 API ([filter:s3api] in proxy-server.conf). */
export interface S3Config {
  /** The region clients must sign for ([filter:s3api] location). */
  location: string;
  /** Roles that own the project's account (keystoneauth operator_roles). */
  operatorRoles: string[];
  /** Roles that may only read (keystoneauth project_reader_roles). */
  readerRoles: string[];
  /** Largest single PUT or part, bytes (S3: 5 GiB). */
  maxObjectSize: number;
  /** Smallest part but the last in a completed multipart upload ([filter:s3api] min_segment_size). */
  minPartSize: number;
  /** Highest part number ([filter:s3api] max_upload_part_num). */
  maxPartNumber: number;
  /** Largest max-keys / max-uploads / max-parts honoured ([filter:s3api] max_bucket_listing). */
  maxListing: number;
  /** Most keys in one DeleteObjects request ([filter:s3api] max_multi_delete_objects). */
  maxMultiDelete: number;
  /** Allowed clock difference for signed requests, ms (S3: 15 minutes). */
  maxSkewMs: number;
}

export const DEFAULT_S3_CONFIG: S3Config = {
  location: 'us-east-1',
  operatorRoles: ['admin', 'member'],
  readerRoles: ['reader'],
  maxObjectSize: 5 * 1024 * 1024 * 1024,
  minPartSize: 5 * 1024 * 1024,
  maxPartNumber: 10000,
  maxListing: 1000,
  maxMultiDelete: 1000,
  maxSkewMs: 15 * 60 * 1000,
};

/** One authenticated S3 request, already split into bucket and key. */
export interface S3Context {
  cluster: StorageCluster;
  config: S3Config;
  auth: S3Auth;
  /** AUTH_<project_id>: the Swift account the credential's project owns. */
  account: string;
  bucket: string;
  key: string;
  query: Map<string, string>;
  request: FastifyRequest;
  reply: FastifyReply;
  now(): Date;
}

/** A fresh, strictly increasing Swift timestamp for a write. */
export function writeTimestamp(ctx: S3Context): string {
  return newTimestamp(ctx.now());
}

/** The request body, checked against what was signed. */
export function bodyOf(ctx: S3Context): { stream: Readable; check: PayloadCheck | undefined } {
  return ctx.auth.body(ctx.request.raw);
}

/** Small XML request bodies (Delete, CompleteMultipartUpload, CreateBucketConfiguration). */
export async function readXmlBody(ctx: S3Context, limit: number): Promise<string> {
  const { stream, check } = bodyOf(ctx);
  try {
    return (await readSmallBody(stream, limit)).toString('utf8');
  } catch (err) {
    if (check?.failure) throw check.failure;
    throw err;
  }
}

/** Maps a storage rejection of a write to S3's error, preferring the body check's own verdict. */
export function writeError(err: unknown, check: PayloadCheck | undefined): unknown {
  if (check?.failure) return check.failure;
  if (!(err instanceof StorageError)) return err;
  switch (err.kind) {
    case 'etag_mismatch':
      return new S3Error('BadDigest');
    case 'too_large':
      return new S3Error('EntityTooLarge');
    case 'length_mismatch':
    case 'client_disconnect':
      return new S3Error('IncompleteBody');
    case 'not_found':
      return new S3Error('NoSuchBucket');
    case 'conflict':
      return new S3Error('ServiceUnavailable', 'A newer write to this key is in progress; please retry.');
    case 'insufficient_storage':
      return new S3Error('ServiceUnavailable', 'The storage is full.');
  }
}

export function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/xml').send(XML_DECL + body);
}

/** `<Tag xmlns="…">inner</Tag>` */
export function doc(tag: string, inner: string): string {
  return `<${tag} xmlns="${S3_NS}">${inner}</${tag}>`;
}

export function owner(ctx: S3Context): string {
  return `<Owner>${el('ID', ctx.auth.principal.projectId)}${el('DisplayName', ctx.auth.principal.projectId)}</Owner>`;
}

/** Swift listing dates ("2023-11-14T22:13:20.123450", UTC) in S3's form ("…20.123Z"). */
export function s3ListingDate(swift: string): string {
  const d = new Date(`${swift.slice(0, 23)}Z`);
  return Number.isNaN(d.getTime()) ? swift : d.toISOString();
}

export const quoteEtag = (etag: string): string => `"${etag.replace(/^"(.*)"$/, '$1')}"`;

/** The segments container where multipart parts live, hidden from ListBuckets (s3api's name). */
export const segmentsContainer = (bucket: string): string => `${bucket}+segments`;

/** Names of an existing bucket: S3's rules are enforced on create only, so Swift-made containers stay reachable. */
export function checkBucketName(bucket: string, strict: boolean): void {
  const bytes = Buffer.byteLength(bucket);
  if (bytes === 0 || bytes > 255 || bucket.includes('/') || bucket.endsWith('+segments')) throw new S3Error('InvalidBucketName', undefined, { BucketName: bucket });
  if (!strict) return;
  const valid =
    bucket.length >= 3 &&
    bucket.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket) &&
    !bucket.includes('..') &&
    !bucket.includes('.-') &&
    !bucket.includes('-.') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket);
  if (!valid) throw new S3Error('InvalidBucketName', undefined, { BucketName: bucket });
}

/** S3's 1 KiB key limit in UTF-8 bytes. */
export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError');
}

/** Every object of a container (paged), optionally under a prefix. */
export async function* listAll(cluster: StorageCluster, account: string, container: string, prefix?: string): AsyncGenerator<{ name: string; hash: string; bytes: number; contentType: string; lastModified: string }> {
  let marker: string | undefined;
  for (;;) {
    const page = await cluster.listObjects(account, container, { prefix, marker, limit: 1000 });
    if (!page || page.length === 0) return;
    for (const row of page) {
      if ('name' in row) yield row;
    }
    const last = page[page.length - 1];
    marker = last && 'name' in last ? last.name : undefined;
    if (marker === undefined || page.length < 1000) return;
  }
}

export async function requireBucket(ctx: S3Context): Promise<void> {
  if (!(await ctx.cluster.headContainer(ctx.account, ctx.bucket))) throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
}
