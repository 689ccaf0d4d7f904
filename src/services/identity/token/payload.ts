/**
 * Keystone's Fernet token payloads: what a token says, packed with msgpack
 * and sealed with Fernet. The layouts and their version numbers follow
 * Keystone's token formatter, so a token issued by either one validates in
 * the other given the same key repository and auth-method table.
 *
 * Every payload is a msgpack array whose first element is its version.
 * Keystone's versions: Unscoped=0, Domain=1, Project=2, Trust=3,
 * Federated{Unscoped,Domain,Project}=4,5,6, OAuth=7, System=8,
 * ApplicationCredential=9, OAuth2 mTLS=10. We implement 0,1,2,3,8,9:
 *
 *   0 unscoped  [0, user, methods, expires, audits]
 *   1 domain    [1, user, methods, domain*, expires, audits]
 *   2 project   [2, user, methods, project, expires, audits]
 *   3 trust     [3, user, methods, project, expires, audits, trust*]
 *   8 system    [8, user, methods, 'all', expires, audits]
 *   9 app cred  [9, user, methods, project, expires, audits, app_cred]
 *
 * - ids (user, project, app_cred) are tuples: [true, 16 raw bytes] for a
 *   UUID in 32 lowercase hex digits, [false, the string] for anything else
 *   (LDAP and federated ids, 'default'). Compression keeps tokens short.
 * - ids marked * are bare, without the tuple, as in Keystone: raw 16 bytes
 *   for a UUID, else the string (Keystone allows only the default domain id
 *   there; the msgpack type tells bytes from a string, so it is lossless).
 * - methods: integer bitmask, see auth-methods.ts.
 * - expires: seconds since the epoch; a float when it has a fraction.
 * - audits: 1 or 2 audit ids as 16 raw bytes each: the token's own, then,
 *   for a token obtained from another (rescope), the first of that chain.
 *
 * Times: issued_at is the Fernet timestamp, whole seconds rounded down, as
 * in Keystone. expires_at keeps millisecond precision. Callers should take
 * both from one clock reading truncated to the second (Keystone drops the
 * microseconds of expires_at), so that issued_at <= expires_at always holds
 * and revocation events compared against issued_at use the same granularity.
 */

import { randomBytes } from 'node:crypto';

import { decode, encode } from '@msgpack/msgpack';

import { bitmaskToMethods, methodsToBitmask } from './auth-methods.js';
import { decodeBase64Url, encodeBase64Url } from './base64url.js';
import { InvalidTokenError } from './errors.js';
import { decrypt, encrypt, type FernetKeys } from './fernet.js';
import { FernetKeyRepository } from './key-repository.js';

export { InvalidTokenError } from './errors.js';

export type TokenScope =
  | { kind: 'unscoped' }
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system'; system: 'all' }
  | { kind: 'trust'; projectId: string; trustId: string }
  | { kind: 'app_cred'; projectId: string; appCredId: string };

export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: TokenScope;
  expiresAt: Date;
  /** The Fernet timestamp: whole seconds. */
  issuedAt: Date;
  auditIds: string[];
}

export type IssueRequest = Omit<TokenPayload, 'issuedAt'> & { issuedAt?: Date };

/** Keystone's payload version for each scope we implement. */
export const PAYLOAD_VERSIONS = {
  unscoped: 0,
  domain: 1,
  project: 2,
  trust: 3,
  system: 8,
  app_cred: 9,
} as const satisfies Record<TokenScope['kind'], number>;

/** A fresh audit id: 16 random bytes, url-safe base64 without padding (22 characters). */
export function newAuditId(): string {
  return encodeBase64Url(randomBytes(16));
}

export interface FormatterOptions {
  /**
   * With a FernetKeyRepository, how long the key set is reused before the
   * directory is checked again for rotations made by another process.
   * Rotations through the same repository object are seen at once.
   */
  keyRecheckMs?: number;
}

/** Issues and validates Keystone-format Fernet tokens. Pure: no clock beyond `new Date()` on issue, no I/O beyond the key source. */
export class FernetTokenFormatter {
  private readonly keys: () => FernetKeys;

  constructor(source: FernetKeyRepository | (() => FernetKeys), options: FormatterOptions = {}) {
    if (source instanceof FernetKeyRepository) {
      const recheckMs = options.keyRecheckMs ?? 1000;
      this.keys = () => source.loadIfChanged(recheckMs);
    } else {
      this.keys = source;
    }
  }

  /** Throws TypeError/RangeError for a payload that cannot be encoded (a caller bug, not bad input). */
  issue(request: IssueRequest): string {
    return encrypt(this.keys(), encode(packPayload(request)), request.issuedAt ?? new Date());
  }

  /** Throws InvalidTokenError. Does NOT check expiry: the caller decides (allow_expired). */
  validate(token: string): TokenPayload {
    const { payload, timestamp } = decrypt(this.keys(), token);
    let value: unknown;
    try {
      value = decode(payload);
    } catch (err) {
      throw new InvalidTokenError('payload', 'token payload is not msgpack', { cause: err });
    }
    return { ...unpackPayload(value), issuedAt: new Date(timestamp * 1000) };
  }
}

// ---- packing -------------------------------------------------------------

const UUID_HEX = /^[0-9a-f]{32}$/;

type PackedId = [true, Uint8Array] | [false, string];

function requireId(id: string, what: string): string {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  return id;
}

// Only the canonical spelling is compressed, so unpacking gives back the
// exact string (Keystone's uuid parser also takes hyphens and capitals, and
// would return a different string than it was given).
function packId(id: string, what: string): PackedId {
  requireId(id, what);
  return UUID_HEX.test(id) ? [true, Buffer.from(id, 'hex')] : [false, id];
}

function packBareId(id: string, what: string): Uint8Array | string {
  requireId(id, what);
  return UUID_HEX.test(id) ? Buffer.from(id, 'hex') : id;
}

function packAuditIds(auditIds: readonly string[]): Uint8Array[] {
  if (auditIds.length < 1 || auditIds.length > 2) throw new RangeError('a token has 1 or 2 audit ids');
  return auditIds.map((id) => {
    const raw = typeof id === 'string' && id.length === 22 ? decodeBase64Url(id) : undefined;
    if (raw === undefined || raw.length !== 16) throw new TypeError('audit ids are 22-character url-safe base64 of 16 bytes');
    return raw;
  });
}

function packPayload(p: IssueRequest): unknown[] {
  const ms = p.expiresAt instanceof Date ? p.expiresAt.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError('expiresAt must be a valid Date');
  const expires = ms / 1000;
  const head = [PAYLOAD_VERSIONS[p.scope.kind], packId(p.userId, 'userId'), methodsToBitmask(p.methods)];
  const audits = packAuditIds(p.auditIds);
  const scope = p.scope;
  switch (scope.kind) {
    case 'unscoped':
      return [...head, expires, audits];
    case 'domain':
      return [...head, packBareId(scope.domainId, 'domainId'), expires, audits];
    case 'project':
      return [...head, packId(scope.projectId, 'projectId'), expires, audits];
    case 'trust':
      return [...head, packId(scope.projectId, 'projectId'), expires, audits, packBareId(scope.trustId, 'trustId')];
    case 'system':
      // Keystone's only system scope; anything else is a caller bug.
      if (scope.system !== 'all') throw new TypeError("system scope must be 'all'");
      return [...head, scope.system, expires, audits];
    case 'app_cred':
      return [...head, packId(scope.projectId, 'projectId'), expires, audits, packId(scope.appCredId, 'appCredId')];
  }
}

// ---- unpacking -------------------------------------------------------------
// The payload is authenticated, so a failure here means a format we do not
// know (e.g. a federated token from a Keystone sharing our keys) or a bug;
// either way the token is not valid for us.

// Array.isArray narrows to any[]; this keeps the elements unknown.
function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function bad(what: string): never {
  throw new InvalidTokenError('payload', `token payload has an invalid ${what}`);
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function unpackId(value: unknown, what: string): string {
  if (!isList(value) || value.length !== 2) return bad(what);
  const [isUuid, id] = value;
  if (isUuid === true && id instanceof Uint8Array && id.length === 16) return hexOf(id);
  if (isUuid === false && typeof id === 'string' && id.length > 0) return id;
  return bad(what);
}

function unpackBareId(value: unknown, what: string): string {
  if (value instanceof Uint8Array && value.length === 16) return hexOf(value);
  if (typeof value === 'string' && value.length > 0) return value;
  return bad(what);
}

function unpackExpires(value: unknown): Date {
  if (typeof value !== 'number' || !Number.isFinite(value)) bad('expires_at');
  // Rounding undoes the float error of ms / 1000 * 1000.
  const date = new Date(Math.round(value * 1000));
  return Number.isNaN(date.getTime()) ? bad('expires_at') : date;
}

function unpackAuditIds(value: unknown): string[] {
  if (!isList(value) || value.length < 1 || value.length > 2) return bad('audit_ids');
  return value.map((id) =>
    id instanceof Uint8Array && id.length === 16 ? encodeBase64Url(id) : bad('audit_ids'),
  );
}

function unpackPayload(value: unknown): Omit<TokenPayload, 'issuedAt'> {
  if (!isList(value)) return bad('layout');
  const [version, user, methodBits, ...rest] = value;
  const userId = unpackId(user, 'user_id');
  const methods = typeof methodBits === 'number' ? bitmaskToMethods(methodBits) : undefined;
  if (methods === undefined) bad('methods');
  const common = { userId, methods };

  const expect = (n: number): void => {
    if (rest.length !== n) bad(`layout for version ${String(version)}`);
  };
  switch (version) {
    case PAYLOAD_VERSIONS.unscoped:
      expect(2);
      return { ...common, scope: { kind: 'unscoped' }, expiresAt: unpackExpires(rest[0]), auditIds: unpackAuditIds(rest[1]) };
    case PAYLOAD_VERSIONS.domain:
      expect(3);
      return {
        ...common,
        scope: { kind: 'domain', domainId: unpackBareId(rest[0], 'domain_id') },
        expiresAt: unpackExpires(rest[1]),
        auditIds: unpackAuditIds(rest[2]),
      };
    case PAYLOAD_VERSIONS.project:
      expect(3);
      return {
        ...common,
        scope: { kind: 'project', projectId: unpackId(rest[0], 'project_id') },
        expiresAt: unpackExpires(rest[1]),
        auditIds: unpackAuditIds(rest[2]),
      };
    case PAYLOAD_VERSIONS.trust:
      expect(4);
      return {
        ...common,
        scope: { kind: 'trust', projectId: unpackId(rest[0], 'project_id'), trustId: unpackBareId(rest[3], 'trust_id') },
        expiresAt: unpackExpires(rest[1]),
        auditIds: unpackAuditIds(rest[2]),
      };
    case PAYLOAD_VERSIONS.system:
      expect(3);
      if (rest[0] !== 'all') bad('system scope');
      return {
        ...common,
        scope: { kind: 'system', system: 'all' },
        expiresAt: unpackExpires(rest[1]),
        auditIds: unpackAuditIds(rest[2]),
      };
    case PAYLOAD_VERSIONS.app_cred:
      expect(4);
      return {
        ...common,
        scope: { kind: 'app_cred', projectId: unpackId(rest[0], 'project_id'), appCredId: unpackId(rest[3], 'app_cred_id') },
        expiresAt: unpackExpires(rest[1]),
        auditIds: unpackAuditIds(rest[2]),
      };
    default:
      return bad(`version ${String(version)}`);
  }
}
