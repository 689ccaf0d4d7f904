import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS request signatures as Keystone checks them for /v3/ec2tokens (keystoneclient's
 * Ec2Signer: versions 0, 1, 2 and 4) and /v3/s3tokens (Swift's s3api sends the
 * string-to-sign). Pure functions: no I/O, no secrets kept.
 */

/** The `credentials` object of POST /v3/ec2tokens, as the EC2/S3 middlewares send it. */
export interface Ec2Request {
  access: string;
  signature?: string;
  host?: string;
  verb?: string;
  path?: string;
  params?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body_hash?: string;
}

/** Thrown for requests whose signature cannot even be computed (unknown version, missing parts). */
export class SignatureFormatError extends Error {}

const hmac = (algorithm: 'sha1' | 'sha256', key: Buffer | string, data: string | Buffer): Buffer => createHmac(algorithm, key).update(data).digest();

/** Python's str() of a JSON value, which is what the signer hashes. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

/** urllib.parse.quote(s, safe='-_~'): only letters, digits and "_.-~" stay as they are. */
function awsQuote(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(params: Record<string, unknown>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${awsQuote(k)}=${awsQuote(text(params[k]))}`)
    .join('&');
}

function stringRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  if (name in headers) return text(headers[name]);
  const lower = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : text(headers[key]);
}

function isV4(params: Record<string, unknown>, headers: Record<string, unknown>): boolean {
  const auth = header(headers, 'Authorization');
  if (auth !== undefined) return auth.startsWith('AWS4-HMAC-SHA256');
  return params['X-Amz-Algorithm'] === 'AWS4-HMAC-SHA256';
}

/** The signature a request with this secret should carry (base64 for v0-2, hex for v4). */
export function computeEc2Signature(secret: string, request: Ec2Request): string {
  const params = stringRecord(request.params);
  const headers = stringRecord(request.headers);
  const version = params.SignatureVersion === undefined ? undefined : text(params.SignatureVersion);
  if (version === '0') {
    return hmac('sha1', secret, text(params.Action) + text(params.Timestamp)).toString('base64');
  }
  if (version === '1') {
    // Keys in case-insensitive order; each key then its value is fed to one running HMAC.
    const mac = createHmac('sha1', secret);
    for (const key of Object.keys(params).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))) {
      mac.update(key);
      mac.update(text(params[key]));
    }
    return mac.digest('base64');
  }
  if (version === '2') {
    const sha1 = params.SignatureMethod === 'HmacSHA1';
    if (!sha1) params.SignatureMethod = 'HmacSHA256';
    const toSign = `${request.verb ?? ''}\n${request.host ?? ''}\n${request.path ?? ''}\n${canonicalQuery(params)}`;
    return hmac(sha1 ? 'sha1' : 'sha256', secret, toSign).toString('base64');
  }
  if (isV4(params, headers)) return signatureV4(secret, request, params, headers);
  throw new SignatureFormatError(version === undefined ? 'Unexpected signature format' : `Unknown signature version: ${version}`);
}

function signatureV4(secret: string, request: Ec2Request, params: Record<string, unknown>, headers: Record<string, unknown>): string {
  const authorization = header(headers, 'Authorization');
  const authParam = (name: string): string => {
    if (authorization !== undefined) {
      const at = authorization.indexOf(`${name}=`);
      return at < 0 ? '' : (authorization.slice(at + name.length + 1).split(',')[0] ?? '');
    }
    const value = params[`X-Amz-${name}`];
    return value === undefined ? '' : text(value);
  };
  const signedHeaders = authParam('SignedHeaders');
  const lowered = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) lowered.set(k.toLowerCase().trim(), text(v).trim());
  // Boto before 2.9.3 signed the host header without its port.
  const stripPort = /^Boto\/2\.[0-9]\.[0-2]/.test(lowered.get('user-agent') ?? '');
  const headerLines = signedHeaders.split(';').flatMap((h) => {
    const value = lowered.get(h);
    if (value === undefined) return [];
    return [`${h}:${h === 'host' && stripPort ? (value.split(':')[0] ?? '') : value}`];
  });
  const verb = (request.verb ?? '').toUpperCase();
  const canonicalRequest = [
    verb,
    request.path ?? '',
    verb === 'POST' ? '' : canonicalQuery(params),
    `${headerLines.join('\n')}\n`,
    signedHeaders,
    request.body_hash ?? '',
  ].join('\n');

  const credential = authParam('Credential').split('/');
  const credentialDate = credential[1];
  const amzDate = header(headers, 'X-Amz-Date') ?? (params['X-Amz-Date'] === undefined ? undefined : text(params['X-Amz-Date']));
  if (credential.length < 4 || credentialDate === undefined || amzDate === undefined || !amzDate.startsWith(credentialDate)) {
    throw new SignatureFormatError('Request date mismatch error');
  }
  const scope = credential.slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const key = deriveV4Key(secret, credentialDate, credential[2] ?? '', credential[3] ?? '');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

function deriveV4Key(secret: string, date: string | Buffer, region: string | Buffer, service: string | Buffer): Buffer {
  const kDate = hmac('sha256', `AWS4${secret}`, date);
  const kRegion = hmac('sha256', kDate, region);
  const kService = hmac('sha256', kRegion, service);
  return hmac('sha256', kService, 'aws4_request');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Keystone's check: the signature as given, then (some clients sign without the port)
 * once more with the host's port removed.
 */
export function ec2SignatureMatches(secret: string, request: Ec2Request): boolean {
  const given = request.signature;
  if (!given) return false;
  if (safeEqual(given, computeEc2Signature(secret, request))) return true;
  const host = request.host ?? '';
  if (!host.includes(':')) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  return safeEqual(given, computeEc2Signature(secret, { ...request, host: hostname }));
}

/**
 * /v3/s3tokens: `token` is the base64url string-to-sign the S3 API built. AWS v2
 * strings are signed with HMAC-SHA1 (base64), v4 strings with the derived key (hex)
 * for the s3, iam or sts service only.
 */
export function computeS3Signature(secret: string, stringToSign: Buffer): string {
  if (stringToSign.subarray(0, 4).toString('latin1') !== 'AWS4') {
    return hmac('sha1', secret, stringToSign).toString('base64');
  }
  const parts = splitBuffer(stringToSign, 0x0a);
  if (parts.length !== 4 || parts[0]?.toString('latin1') !== 'AWS4-HMAC-SHA256') throw new SignatureFormatError('Invalid EC2 signature.');
  const scope = splitBuffer(parts[2] as Buffer, 0x2f);
  if (scope.length !== 4 || scope[3]?.toString('latin1') !== 'aws4_request') throw new SignatureFormatError('Invalid EC2 signature.');
  if (!['s3', 'iam', 'sts'].includes(scope[2]?.toString('latin1') ?? '')) throw new SignatureFormatError('Invalid EC2 signature.');
  const key = deriveV4Key(secret, scope[0] as Buffer, scope[1] as Buffer, scope[2] as Buffer);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function splitBuffer(buf: Buffer, byte: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === byte) {
      out.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  out.push(buf.subarray(start));
  return out;
}

/** Keystone's [credential] auth_ttl: a signed request older than this is refused. */
export const EC2_AUTH_TTL_MS = 15 * 60 * 1000;

/**
 * The request's own timestamp (v0-2: Timestamp, v4: X-Amz-Date), if it has one.
 * Throws SignatureFormatError when present but unreadable.
 */
export function requestTimestamp(request: Ec2Request): Date | null {
  const params = stringRecord(request.params);
  const headers = stringRecord(request.headers);
  const raw = params.Timestamp ?? headers['X-Amz-Date'] ?? params['X-Amz-Date'];
  if (raw === undefined || raw === null || raw === '') return null;
  const value = text(raw);
  const basic = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  const iso = basic ? `${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z` : value;
  // ISO 8601 without an offset is UTC, as Keystone's parser reads it.
  const withZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso) || !/T\d/.test(iso) ? iso : `${iso}Z`;
  const parsed = /^\d{4}-\d\d-\d\d/.test(withZone) ? new Date(withZone) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw new SignatureFormatError(`Credential timestamp is invalid: ${value}`);
  return parsed;
}
