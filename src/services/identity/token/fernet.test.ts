import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { test } from 'node:test';

import {
  decrypt,
  encrypt,
  generateFernetKey,
  InvalidTokenError,
  MAX_TOKEN_LENGTH,
  parseFernetKey,
  sealToken,
  type FernetKey,
  type FernetKeys,
} from './fernet.js';
import type { InvalidTokenReason } from './errors.js';

// Known-answer vector of the Fernet spec (generate.json), also produced by
// python-cryptography's Fernet: proves byte compatibility with Keystone.
const SPEC_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const SPEC_TOKEN =
  'gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==';
const SPEC_TIME = 499162800; // 1985-10-26T01:20:00-07:00
const SPEC_IV = Uint8Array.from({ length: 16 }, (_, i) => i);

const keyA = parseFernetKey(generateFernetKey());
const keyB = parseFernetKey(generateFernetKey());
const text = new TextEncoder().encode('hello, nubes');

function rejects(fn: () => unknown, reason: InvalidTokenReason): void {
  assert.throws(fn, (err: unknown) => err instanceof InvalidTokenError && err.reason === reason);
}

function raw(token: string): Buffer {
  return Buffer.from(token, 'base64url');
}

test('matches the spec vector: sealing gives its bytes, opening gives its plaintext', () => {
  const key = parseFernetKey(SPEC_KEY);
  assert.equal(sealToken(key, new TextEncoder().encode('hello'), SPEC_TIME, SPEC_IV), SPEC_TOKEN.replace(/=+$/, ''));
  const opened = decrypt([key], SPEC_TOKEN);
  assert.equal(Buffer.from(opened.payload).toString(), 'hello');
  assert.equal(opened.timestamp, SPEC_TIME);
});

test('round trip; tokens carry no padding; timestamp is whole seconds rounded down', () => {
  const now = new Date('2030-01-02T03:04:05.999Z');
  const token = encrypt([keyA], text, now);
  assert.doesNotMatch(token, /[=+/]/);
  const opened = decrypt([keyA], token);
  assert.deepEqual(Buffer.from(opened.payload), Buffer.from(text));
  assert.equal(opened.timestamp, Math.floor(now.getTime() / 1000));
  const bytes = raw(token);
  assert.equal(bytes[0], 0x80);
  assert.equal(bytes.length, 1 + 8 + 16 + 16 + 32); // 12 bytes of text pad to one block
});

test('restores padding: padded and unpadded spellings both validate, wrong padding does not', () => {
  const token = encrypt([keyA], text);
  assert.notEqual(token.length % 4, 0, 'this token length needs padding');
  const padded = token + '='.repeat(4 - (token.length % 4));
  assert.deepEqual(decrypt([keyA], padded).payload, decrypt([keyA], token).payload);
  rejects(() => decrypt([keyA], padded + '='), 'malformed');
  rejects(() => decrypt([keyA], token + '='.repeat(4 - (token.length % 4) + 1)), 'malformed');
});

test('empty plaintext still makes a full block', () => {
  const token = encrypt([keyA], new Uint8Array(0));
  assert.equal(decrypt([keyA], token).payload.length, 0);
});

test('a token from another key is rejected', () => {
  rejects(() => decrypt([keyB], encrypt([keyA], text)), 'signature');
});

test('every key is tried (MultiFernet): primary, older primaries, staged', () => {
  const keys: FernetKeys = [keyA, keyB];
  assert.deepEqual(decrypt(keys, encrypt([keyB], text)).payload, Buffer.from(text));
  assert.deepEqual(decrypt(keys, encrypt(keys, text)).payload, Buffer.from(text));
  // encrypt always uses the primary (first) key
  rejects(() => decrypt([keyB], encrypt(keys, text)), 'signature');
});

test('flipping any bit of any part is detected', () => {
  const bytes = raw(encrypt([keyA], text));
  const parts: Array<[string, number, InvalidTokenReason]> = [
    ['version', 0, 'version'],
    ['timestamp', 5, 'signature'],
    ['iv', 12, 'signature'],
    ['ciphertext', 30, 'signature'],
    ['hmac', bytes.length - 1, 'signature'],
  ];
  for (const [, at, reason] of parts) {
    const tampered = Buffer.from(bytes);
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    rejects(() => decrypt([keyA], tampered.toString('base64url')), reason);
  }
});

test('malformed inputs are InvalidTokenError, never another error', () => {
  const token = encrypt([keyA], text);
  const bytes = raw(token);
  const inputs = [
    '',
    'x',
    'not a token',
    token.slice(0, 10) + '+' + token.slice(11), // standard, not url-safe, alphabet
    token.slice(0, -1),
    token + 'A',
    bytes.subarray(0, 40).toString('base64url'), // shorter than one block
    Buffer.concat([bytes, Buffer.alloc(1)]).toString('base64url'), // ciphertext not block-aligned
    'A'.repeat(MAX_TOKEN_LENGTH + 4),
  ];
  for (const input of inputs) rejects(() => decrypt([keyA], input), 'malformed');
  rejects(() => decrypt([keyA], 42 as unknown as string), 'malformed');
});

test('an authentic token whose plaintext has bad PKCS7 padding is rejected', () => {
  const header = Buffer.alloc(25);
  header[0] = 0x80;
  const cipher = createCipheriv('aes-128-cbc', keyA.encryptionKey, header.subarray(9));
  cipher.setAutoPadding(false);
  const body = Buffer.concat([header, cipher.update(Buffer.alloc(16, 0)), cipher.final()]);
  const mac = createHmac('sha256', keyA.signingKey).update(body).digest();
  rejects(() => decrypt([keyA], Buffer.concat([body, mac]).toString('base64url')), 'decryption');
});

test('keys are 32 bytes of url-safe base64; generated keys look like keystone-manage ones', () => {
  const encoded = generateFernetKey();
  assert.match(encoded, /^[A-Za-z0-9_-]{43}=$/);
  const key: FernetKey = parseFernetKey(encoded);
  assert.equal(key.signingKey.length, 16);
  assert.equal(key.encryptionKey.length, 16);
  assert.deepEqual(Buffer.concat([key.signingKey, key.encryptionKey]), Buffer.from(encoded, 'base64url'));
  assert.ok(parseFernetKey(encoded.slice(0, 43)));
  for (const bad of ['', encoded.slice(0, 42), encoded + 'AAAA', encoded.replace(/.$/, '+')]) {
    assert.throws(() => parseFernetKey(bad), TypeError);
  }
});

test('refuses dates before 1970 and bad IVs', () => {
  assert.throws(() => encrypt([keyA], text, new Date(-1000)), RangeError);
  assert.throws(() => encrypt([keyA], text, new Date(Number.NaN)), RangeError);
  assert.throws(() => sealToken(keyA, text, 0, new Uint8Array(8)), RangeError);
});
