import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';

import { AUTH_METHODS } from './auth-methods.js';
import { decrypt, encrypt, generateFernetKey, parseFernetKey, type FernetKeys } from './fernet.js';
import { FernetKeyRepository } from './key-repository.js';
import {
  FernetTokenFormatter,
  InvalidTokenError,
  newAuditId,
  type IssueRequest,
  type TokenPayload,
  type TokenScope,
} from './payload.js';

const keys: FernetKeys = [parseFernetKey(generateFernetKey())];
const formatter = new FernetTokenFormatter(() => keys);
const uuid = (): string => randomUUID().replace(/-/g, '');

const issuedAt = new Date('2031-05-06T07:08:09.000Z');
const base = {
  userId: uuid(),
  methods: ['password'],
  expiresAt: new Date(issuedAt.getTime() + 3600_000),
  issuedAt,
  auditIds: [newAuditId()],
};

const scopes: TokenScope[] = [
  { kind: 'unscoped' },
  { kind: 'domain', domainId: uuid() },
  { kind: 'domain', domainId: 'default' },
  { kind: 'project', projectId: uuid() },
  { kind: 'system', system: 'all' },
  { kind: 'trust', projectId: uuid(), trustId: uuid() },
  { kind: 'app_cred', projectId: uuid(), appCredId: uuid() },
];

/** The msgpack array inside a token, to check the wire layout. */
function unpackRaw(token: string): unknown[] {
  // Copied to a plain Uint8Array so bin fields decode as Uint8Array, not Buffer views.
  const value = decode(Uint8Array.from(decrypt(keys, token).payload));
  assert.ok(Array.isArray(value));
  return value;
}

function isInvalid(reason?: string): (err: unknown) => boolean {
  return (err) => err instanceof InvalidTokenError && (reason === undefined || err.reason === reason);
}

test('every scope kind round trips', () => {
  for (const scope of scopes) {
    const request: IssueRequest = { ...base, scope };
    const expected: TokenPayload = { ...base, scope };
    assert.deepEqual(formatter.validate(formatter.issue(request)), expected, scope.kind);
  }
});

test('payloads carry Keystone version numbers first', () => {
  const versions = scopes.map((scope) => unpackRaw(formatter.issue({ ...base, scope }))[0]);
  assert.deepEqual(versions, [0, 1, 1, 2, 8, 3, 9]);
});

test('project-scoped tokens with UUID ids stay well under 255 characters', () => {
  const lengths = scopes.map((scope) => formatter.issue({ ...base, scope, auditIds: [newAuditId(), newAuditId()] }).length);
  for (const length of lengths) assert.ok(length < 255, `token length ${length}`);
  const project = formatter.issue({ ...base, scope: scopes[3] ?? { kind: 'unscoped' } });
  assert.equal(project.length, 183); // 137 bytes: 57 of Fernet framing + 5 cipher blocks
});

test('UUID hex ids are compressed to 16 bytes; other ids stay strings, exactly', () => {
  const federatedUser = 'f'.repeat(64); // e.g. a sha256 id from a mapping
  const upperUuid = uuid().toUpperCase(); // not canonical: must come back unchanged
  const project = uuid();
  const token = formatter.issue({ ...base, userId: federatedUser, scope: { kind: 'project', projectId: project } });
  const [, user, , packedProject] = unpackRaw(token);
  assert.deepEqual(user, [false, federatedUser]);
  assert.deepEqual(packedProject, [true, new Uint8Array(Buffer.from(project, 'hex'))]);

  const ldapUser = formatter.issue({ ...base, userId: upperUuid, scope: { kind: 'unscoped' } });
  assert.equal(formatter.validate(ldapUser).userId, upperUuid);
  const hyphenated = randomUUID();
  assert.equal(formatter.validate(formatter.issue({ ...base, userId: hyphenated, scope: { kind: 'unscoped' } })).userId, hyphenated);

  // Domain and trust ids are bare, as in Keystone: bytes for a UUID, else the string.
  const domainId = uuid();
  assert.deepEqual(unpackRaw(formatter.issue({ ...base, scope: { kind: 'domain', domainId } }))[3], new Uint8Array(Buffer.from(domainId, 'hex')));
  assert.equal(unpackRaw(formatter.issue({ ...base, scope: { kind: 'domain', domainId: 'default' } }))[3], 'default');
  const trust = unpackRaw(formatter.issue({ ...base, scope: { kind: 'trust', projectId: project, trustId: 'not-a-uuid' } }));
  assert.equal(trust[6], 'not-a-uuid');
  assert.equal(unpackRaw(formatter.issue({ ...base, scope: { kind: 'system', system: 'all' } }))[3], 'all');
});

test('methods travel as a bitmask and come back in Keystone order', () => {
  const token = formatter.issue({ ...base, methods: ['password', 'token'], scope: { kind: 'unscoped' } });
  assert.equal(unpackRaw(token)[2], 6);
  assert.deepEqual(formatter.validate(token).methods, ['token', 'password']);
  assert.throws(() => formatter.issue({ ...base, methods: ['kerberos'], scope: { kind: 'unscoped' } }), TypeError);
  assert.throws(() => formatter.issue({ ...base, methods: [], scope: { kind: 'unscoped' } }), TypeError);
});

test('audit ids: 22 url-safe characters, stored as 16 raw bytes, 1 or 2 per token', () => {
  const own = newAuditId();
  const parent = newAuditId();
  assert.match(own, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(own, parent);
  const token = formatter.issue({ ...base, auditIds: [own, parent], scope: { kind: 'unscoped' } });
  const packed = unpackRaw(token)[4];
  assert.deepEqual(packed, [new Uint8Array(Buffer.from(own, 'base64url')), new Uint8Array(Buffer.from(parent, 'base64url'))]);
  assert.deepEqual(formatter.validate(token).auditIds, [own, parent]);
  assert.throws(() => formatter.issue({ ...base, auditIds: [], scope: { kind: 'unscoped' } }), RangeError);
  assert.throws(() => formatter.issue({ ...base, auditIds: [own, own, own], scope: { kind: 'unscoped' } }), RangeError);
  assert.throws(() => formatter.issue({ ...base, auditIds: ['short'], scope: { kind: 'unscoped' } }), TypeError);
  assert.throws(() => formatter.issue({ ...base, auditIds: [own + '=='], scope: { kind: 'unscoped' } }), TypeError);
});

test('times: issued_at is the Fernet timestamp (seconds); expires_at keeps milliseconds', () => {
  const at = new Date('2031-05-06T07:08:09.876Z');
  const expiresAt = new Date('2031-05-06T08:08:09.123Z');
  const token = formatter.issue({ ...base, issuedAt: at, expiresAt, scope: { kind: 'unscoped' } });
  const payload = formatter.validate(token);
  assert.equal(payload.issuedAt.toISOString(), '2031-05-06T07:08:09.000Z');
  assert.equal(payload.expiresAt.toISOString(), '2031-05-06T08:08:09.123Z');

  const before = Math.floor(Date.now() / 1000) * 1000;
  const { issuedAt: _, ...withoutIssuedAt } = base;
  const now = formatter.validate(formatter.issue({ ...withoutIssuedAt, scope: { kind: 'unscoped' } })).issuedAt.getTime();
  assert.ok(now >= before && now <= Date.now(), 'defaults to the current time');
});

test('validate does not judge expiry (allow_expired is the caller’s call)', () => {
  const expired = formatter.issue({ ...base, issuedAt: new Date(1000_000), expiresAt: new Date(2000_000), scope: { kind: 'unscoped' } });
  assert.equal(formatter.validate(expired).expiresAt.getTime(), 2000_000);
});

test('wrong key, tampering, and padding', () => {
  const token = formatter.issue({ ...base, scope: scopes[3] ?? { kind: 'unscoped' } });
  assert.doesNotMatch(token, /=/);
  const other = new FernetTokenFormatter(() => [parseFernetKey(generateFernetKey())]);
  assert.throws(() => other.validate(token), isInvalid('signature'));

  const bytes = Buffer.from(token, 'base64url');
  bytes[60] = (bytes[60] ?? 0) ^ 0x80;
  assert.throws(() => formatter.validate(bytes.toString('base64url')), isInvalid('signature'));
  assert.throws(() => formatter.validate(token.slice(0, -2)), isInvalid());

  const padded = token + '='.repeat((4 - (token.length % 4)) % 4);
  assert.deepEqual(formatter.validate(padded), formatter.validate(token));
});

test('authentic payloads we do not understand are InvalidTokenError("payload")', () => {
  const user = [true, new Uint8Array(16)];
  const audits = [new Uint8Array(16)];
  const cases: unknown[] = [
    [4, user, 2, 1e9, audits, [], 'idp', 'proto'], // federated unscoped: not implemented
    [7, user, 2, 1e9, audits],
    [0, user, 2, 1e9], // too short
    [0, user, 2, 1e9, audits, 'extra'],
    [0, user, 0, 1e9, audits], // no methods
    [0, user, 256, 1e9, audits], // unknown method bit
    [0, [true, new Uint8Array(15)], 2, 1e9, audits],
    [0, [false, ''], 2, 1e9, audits],
    [0, user, 2, 'tomorrow', audits],
    [0, user, 2, 1e9, []],
    [0, user, 2, 1e9, [new Uint8Array(8)]],
    [8, user, 2, 'project', 1e9, audits],
    [1, user, 2, 42, 1e9, audits],
    { version: 0 },
  ];
  for (const value of cases) {
    const token = encrypt(keys, encode(value));
    assert.throws(() => formatter.validate(token), isInvalid('payload'), JSON.stringify(value));
  }
  assert.throws(() => formatter.validate(encrypt(keys, new Uint8Array([0xc1]))), isInvalid('payload'));
  assert.throws(() => formatter.validate(encrypt(keys, new Uint8Array([0x90, 0x00]))), isInvalid('payload'));
});

test('bad issue requests are caller errors, not tokens', () => {
  assert.throws(() => formatter.issue({ ...base, userId: '', scope: { kind: 'unscoped' } }), TypeError);
  assert.throws(() => formatter.issue({ ...base, expiresAt: new Date(Number.NaN), scope: { kind: 'unscoped' } }), TypeError);
  assert.throws(() => formatter.issue({ ...base, scope: { kind: 'project', projectId: '' } }), TypeError);
});

test('with a key repository: rotations are picked up, older tokens validate until pruned', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-fernet-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = new FernetKeyRepository(join(dir, 'keys'), 3);
  repo.setup();
  const tokens = new FernetTokenFormatter(repo);
  const scope: TokenScope = { kind: 'project', projectId: uuid() };
  const first = tokens.issue({ ...base, scope });
  repo.rotate();
  const second = tokens.issue({ ...base, scope });
  assert.equal(tokens.validate(first).scope.kind, 'project');
  // The rotation made this object's repository switch primaries at once.
  const [newPrimary, oldPrimary] = repo.load();
  assert.ok(decrypt([newPrimary], second));
  assert.throws(() => decrypt([oldPrimary ?? newPrimary], second), isInvalid('signature'));
  repo.rotate();
  assert.throws(() => tokens.validate(first), isInvalid('signature'));
  assert.equal(tokens.validate(second).scope.kind, 'project');
});

test('property: any well-formed request round trips', () => {
  const id = fc.oneof(
    fc.uuid().map((u) => u.replace(/-/g, '')),
    fc.string({ minLength: 1, maxLength: 64 }),
  );
  const scope: fc.Arbitrary<TokenScope> = fc.oneof(
    fc.constant<TokenScope>({ kind: 'unscoped' }),
    id.map((domainId): TokenScope => ({ kind: 'domain', domainId })),
    id.map((projectId): TokenScope => ({ kind: 'project', projectId })),
    fc.constant<TokenScope>({ kind: 'system', system: 'all' }),
    fc.tuple(id, id).map(([projectId, trustId]): TokenScope => ({ kind: 'trust', projectId, trustId })),
    fc.tuple(id, id).map(([projectId, appCredId]): TokenScope => ({ kind: 'app_cred', projectId, appCredId })),
  );
  const request = fc.record({
    userId: id,
    methods: fc.subarray([...AUTH_METHODS], { minLength: 1 }),
    scope,
    issuedAt: fc.integer({ min: 0, max: 4_102_444_800 }).map((s) => new Date(s * 1000)),
    expiresAt: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms)),
    auditIds: fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 2 }).map((ids) =>
      ids.map((b) => Buffer.from(b).toString('base64url')),
    ),
  });
  fc.assert(
    fc.property(request, (req) => {
      const got = formatter.validate(formatter.issue(req));
      assert.deepEqual({ ...got, methods: [...got.methods].sort() }, { ...req, methods: [...req.methods].sort() });
    }),
    { numRuns: 300 },
  );
});
