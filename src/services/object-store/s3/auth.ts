import type { IncomingMessage } from 'node:http';
import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import { S3Error } from './errors.js';
import { AwsChunkedDecoder, Sha256Verifier, type PayloadCheck } from './payload.js';
import {
  canonicalRequestV4,
  parseAmzDate,
  parseAuthorizationV4,
  parsePresignedV4,
  safeEqual,
  SignatureParseError,
  signingKeyV4,
  signV2,
  signV4,
  stringToSignV2,
  stringToSignV4,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
  type SignableRequest,
  type V4Params,
} from './sigv4.js';

/** What the identity service knows about an EC2 access key (Keystone's ec2 credential). */
export interface S3Principal {
  userId: string;
  projectId: string;
  /** Role names the user has on the project. */
  roles: string[];
  secret: string;
}

/** Resolves an access key; null when it does not exist or its user/project is disabled. */
export type AccessKeyLookup = (access: string) => Promise<S3Principal | null>;

export interface AuthSettings {
  location: string;
  /** Allowed distance between the request's date and now (S3: 15 minutes). */
  maxSkewMs: number;
  /** The path the S3 root is mounted at ("/object-store/s3"): V2 clients may sign without it. */
  mountPath: string;
}

/** The verified caller and how to read the request body they signed. */
export interface S3Auth {
  principal: S3Principal;
  access: string;
  /** Wraps the raw body so it is checked (and aws-chunked decoded) as it streams. */
  body(raw: IncomingMessage): { stream: Readable; check: PayloadCheck | undefined };
  /** The decoded body length when the client announced it. */
  contentLength: number | undefined;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Unlike pipe(), a client that disconnects mid-body also fails the stream storage reads. */
function through<T extends Transform>(raw: IncomingMessage, t: T): T {
  pipeline(raw, t, () => undefined);
  return t;
}

function header(req: SignableRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function contentLength(req: SignableRequest, chunked: boolean): number | undefined {
  const raw = chunked ? header(req, 'x-amz-decoded-content-length') : header(req, 'content-length');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', `Invalid ${chunked ? 'x-amz-decoded-content-length' : 'Content-Length'}.`);
  return Number(raw);
}

/**
 * Authenticates a request signed with SigV4 (header or presigned query) or SigV2 (header or
 * query). Unsigned requests are refused: anonymous access (public buckets) is not offered.
 */
export async function authenticate(req: SignableRequest, lookup: AccessKeyLookup, settings: AuthSettings, now: Date): Promise<S3Auth> {
  const authorization = header(req, 'authorization');
  const query = new Map(req.query);
  try {
    if (authorization?.startsWith('AWS4-HMAC-SHA256')) return await v4(req, parseAuthorizationV4(authorization), false, lookup, settings, now);
    if (query.has('X-Amz-Algorithm')) {
      if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
      return await v4(req, parsePresignedV4(query), true, lookup, settings, now);
    }
    if (authorization?.startsWith('AWS ')) return await v2(req, authorization.slice(4), undefined, lookup, settings, now);
    if (query.has('AWSAccessKeyId') && query.has('Signature')) return await v2(req, `${query.get('AWSAccessKeyId')}:${query.get('Signature')}`, query.get('Expires') ?? '', lookup, settings, now);
  } catch (err) {
    if (err instanceof SignatureParseError) throw new S3Error(authorization ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError', err.message);
    throw err;
  }
  if (authorization !== undefined) throw new S3Error('AccessDenied', 'Unsupported Authorization Type');
  throw new S3Error('AccessDenied', 'Anonymous access is not allowed.');
}

function checkSkew(date: Date, settings: AuthSettings, now: Date): void {
  if (Math.abs(now.getTime() - date.getTime()) > settings.maxSkewMs) {
    throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: date.toISOString(),
      ServerTime: now.toISOString(),
      MaxAllowedSkewMilliseconds: String(settings.maxSkewMs),
    });
  }
}

async function principalFor(lookup: AccessKeyLookup, access: string): Promise<S3Principal> {
  const principal = await lookup(access);
  if (!principal) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: access });
  return principal;
}

async function v4(req: SignableRequest, p: V4Params, presigned: boolean, lookup: AccessKeyLookup, settings: AuthSettings, now: Date): Promise<S3Auth> {
  const query = new Map(req.query);
  const amzDate = presigned ? (query.get('X-Amz-Date') ?? '') : (header(req, 'x-amz-date') ?? '');
  let date = parseAmzDate(amzDate);
  if (!presigned && !date && header(req, 'date')) {
    // SigV4 may also use the Date header, in which case the string-to-sign uses its ISO form.
    const d = new Date(header(req, 'date') ?? '');
    if (!Number.isNaN(d.getTime())) date = d;
  }
  if (!date) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  const isoDate = amzDate && parseAmzDate(amzDate) ? amzDate : date.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  if (!isoDate.startsWith(p.date)) {
    throw new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', `Invalid credential date "${p.date}". This date is not the same as X-Amz-Date: "${isoDate.slice(0, 8)}".`);
  }
  if (p.region !== settings.location) {
    throw new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${p.region}' is wrong; expecting '${settings.location}'`, { Region: settings.location });
  }
  if (p.service !== 's3') throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; incorrect service "${p.service}". This endpoint belongs to "s3".`);
  if (presigned) {
    const expires = query.get('X-Amz-Expires') ?? '';
    if (!/^\d+$/.test(expires)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
    const seconds = Number(expires);
    if (seconds > 604800) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
    if (now.getTime() > date.getTime() + seconds * 1000) throw new S3Error('AccessDenied', 'Request has expired', { 'X-Amz-Expires': expires, Expires: new Date(date.getTime() + seconds * 1000).toISOString(), ServerTime: now.toISOString() });
    if (date.getTime() - now.getTime() > settings.maxSkewMs) throw new S3Error('AccessDenied', 'Request is not valid yet');
  } else {
    checkSkew(date, settings, now);
  }

  const declared = header(req, 'x-amz-content-sha256');
  if (!presigned && declared === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  const payloadHash = declared ?? UNSIGNED_PAYLOAD;
  const streaming = payloadHash === STREAMING_SIGNED || payloadHash === STREAMING_SIGNED_TRAILER || payloadHash === STREAMING_UNSIGNED_TRAILER;
  if (!streaming && payloadHash !== UNSIGNED_PAYLOAD && !SHA256_HEX.test(payloadHash)) throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.');

  const principal = await principalFor(lookup, p.access);
  const key = signingKeyV4(principal.secret, p.date, p.region, p.service);
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`;
  const sign = (uri?: string): string => signV4(key, stringToSignV4(isoDate, scope, canonicalRequestV4(req, p.signedHeaders, payloadHash, uri)));
  // Clients re-encode the path with AWS's rules; a few sign the path exactly as they sent it.
  if (!safeEqual(sign(), p.signature) && !safeEqual(sign(req.rawPath), p.signature)) throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: p.access });

  const signedChunks = payloadHash === STREAMING_SIGNED || payloadHash === STREAMING_SIGNED_TRAILER;
  return {
    principal,
    access: p.access,
    contentLength: contentLength(req, streaming),
    body(raw) {
      if (streaming) {
        const decoder = new AwsChunkedDecoder(signedChunks ? { key, amzDate: isoDate, scope, seedSignature: p.signature } : undefined);
        return { stream: through(raw, decoder), check: decoder };
      }
      if (SHA256_HEX.test(payloadHash)) {
        const verifier = new Sha256Verifier(payloadHash);
        return { stream: through(raw, verifier), check: verifier };
      }
      return { stream: through(raw, new PassThrough()), check: undefined };
    },
  };
}

async function v2(req: SignableRequest, credentials: string, expires: string | undefined, lookup: AccessKeyLookup, settings: AuthSettings, now: Date): Promise<S3Auth> {
  const colon = credentials.lastIndexOf(':');
  if (colon <= 0) throw new S3Error('AccessDenied', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature');
  const access = credentials.slice(0, colon);
  const signature = credentials.slice(colon + 1);
  if (expires !== undefined) {
    if (!/^\d+$/.test(expires)) throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    if (now.getTime() > Number(expires) * 1000) throw new S3Error('AccessDenied', 'Request has expired', { Expires: new Date(Number(expires) * 1000).toISOString(), ServerTime: now.toISOString() });
  } else {
    const raw = header(req, 'x-amz-date') ?? header(req, 'date');
    const date = raw === undefined ? null : new Date(raw);
    if (!date || Number.isNaN(date.getTime())) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    checkSkew(date, settings, now);
  }
  const principal = await principalFor(lookup, access);
  // The resource is the path as the client built it: with the mount path, or (clients that
  // take the endpoint as a host only) without it.
  const paths = [req.rawPath];
  if (settings.mountPath && req.rawPath.startsWith(settings.mountPath)) paths.push(req.rawPath.slice(settings.mountPath.length) || '/');
  const ok = paths.some((path) => safeEqual(signV2(principal.secret, stringToSignV2(req, path, expires)), signature));
  if (!ok) throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: access });
  return {
    principal,
    access,
    contentLength: contentLength(req, false),
    body: (raw) => ({ stream: through(raw, new PassThrough()), check: undefined }),
  };
}
