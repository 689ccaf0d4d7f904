import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS request signing as S3 defines it: Signature Version 4 (header and presigned query forms,
 * aws-chunked payload chunks) and the legacy Version 2. Pure functions: the caller supplies the
 * secret, this module never stores one.
 */

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export interface SignableRequest {
  method: string;
  /** The path exactly as the client sent it (percent-encoded), without the query string. */
  rawPath: string;
  /** The query string's parameters, percent-decoded, in the order sent. */
  query: [string, string][];
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** AWS's UriEncode: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper-case hex), '/' optionally kept. */
export function awsUriEncode(s: string, keepSlash: boolean): string {
  const out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? out.replaceAll('%2F', '/') : out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** S3 canonical URI: each segment decoded once and re-encoded with AWS's rules (never normalized). */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => awsUriEncode(safeDecode(segment), false))
    .join('/');
}

export function canonicalQueryString(query: [string, string][], omit?: string): string {
  return query
    .filter(([k]) => k !== omit)
    .map(([k, v]) => [awsUriEncode(k, false), awsUriEncode(v, false)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: SignableRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/** `name:value\n` for each signed header: value trimmed and inner whitespace runs collapsed. */
export function canonicalHeaders(headers: SignableRequest['headers'], signed: string[]): string {
  return signed.map((name) => `${name}:${(headerValue(headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
}

export function canonicalRequestV4(req: SignableRequest, signedHeaders: string[], payloadHash: string, uri = canonicalUri(req.rawPath)): string {
  return [req.method.toUpperCase(), uri, canonicalQueryString(req.query, 'X-Amz-Signature'), canonicalHeaders(req.headers, signedHeaders), signedHeaders.join(';'), payloadHash].join('\n');
}

export function stringToSignV4(amzDate: string, scope: string, canonicalRequest: string): string {
  return ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

export function signingKeyV4(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export const signV4 = (key: Buffer, stringToSign: string): string => createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

/** String-to-sign of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256: string): string {
  return ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previousSignature, EMPTY_SHA256, chunkSha256].join('\n');
}

/** What an AWS4-HMAC-SHA256 Authorization header or presigned query carries. */
export interface V4Params {
  access: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export class SignatureParseError extends Error {}

function parseCredential(value: string): Omit<V4Params, 'signedHeaders' | 'signature'> {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1] ?? '')) throw new SignatureParseError(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [access, date, region, service] = parts as [string, string, string, string];
  return { access, date, region, service };
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(';').map((h) => h.trim().toLowerCase());
  if (names.some((h) => !h)) throw new SignatureParseError('SignedHeaders is malformed.');
  return names;
}

/** `AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorizationV4(header: string): V4Params {
  const body = header.slice('AWS4-HMAC-SHA256'.length).trim();
  const fields = new Map<string, string>();
  for (const part of body.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signed || !signature) throw new SignatureParseError('The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.');
  return { ...parseCredential(credential), signedHeaders: parseSignedHeaders(signed), signature };
}

export function parsePresignedV4(query: Map<string, string>): V4Params {
  const credential = query.get('X-Amz-Credential');
  const signed = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !signed || !signature || !query.get('X-Amz-Date')) throw new SignatureParseError('Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  return { ...parseCredential(credential), signedHeaders: parseSignedHeaders(signed), signature };
}

/** Parses "20130524T000000Z". */
export function parseAmzDate(value: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  return Number.isNaN(d.getTime()) ? null : d;
}

// ---- Signature Version 2 -------------------------------------------------------------------

/** Sub-resources that are part of a V2 canonical resource (S3's list, as s3api keeps it). */
const V2_SUB_RESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId',
  'versioning', 'versions', 'website',
]);

/**
 * V2 string-to-sign: verb, Content-MD5, Content-Type, Date (or the Expires of a presigned URL,
 * or empty when x-amz-date is sent), the x-amz-* headers, then the resource with its sub-resources.
 */
export function stringToSignV2(req: SignableRequest, resourcePath: string, expires?: string): string {
  const h = (name: string): string => headerValue(req.headers, name) ?? '';
  const amz = Object.keys(req.headers)
    .filter((k) => k.startsWith('x-amz-'))
    .sort()
    .map((k) => `${k}:${(headerValue(req.headers, k) ?? '').trim()}\n`)
    .join('');
  const date = expires ?? (req.headers['x-amz-date'] !== undefined ? '' : h('date'));
  const subs = req.query
    .filter(([k]) => V2_SUB_RESOURCES.has(k))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => (v ? `${k}=${v}` : k));
  const resource = subs.length ? `${resourcePath}?${subs.join('&')}` : resourcePath;
  return `${req.method.toUpperCase()}\n${h('content-md5')}\n${h('content-type')}\n${date}\n${amz}${resource}`;
}

export const signV2 = (secret: string, stringToSign: string): string => createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
