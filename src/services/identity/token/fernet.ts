/**
 * The Fernet token spec (github.com/fernet/spec), as Keystone uses it through
 * python-cryptography's MultiFernet:
 *
 *   0x80 | timestamp (8 bytes BE, seconds) | IV (16) | AES-128-CBC(PKCS7) | HMAC-SHA256 (32)
 *
 * The HMAC covers every byte before it and is keyed with the first half of the
 * 32-byte key; the cipher uses the second half. The whole is url-safe base64.
 * Keystone strips the trailing '=' from the tokens it issues (they travel in
 * headers and URLs) and restores it when validating; so do we.
 */

import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { decodeBase64Url, encodeBase64Url } from './base64url.js';
import { InvalidTokenError } from './errors.js';

export { InvalidTokenError } from './errors.js';

/** One Fernet key split into its two halves. */
export interface FernetKey {
  /** First 16 bytes of the key: HMAC-SHA256 key. */
  readonly signingKey: Buffer;
  /** Last 16 bytes of the key: AES-128-CBC key. */
  readonly encryptionKey: Buffer;
}

/**
 * The keys in use, primary first. New tokens are always made with the
 * primary; validation tries every key (MultiFernet), so tokens made with an
 * earlier primary stay valid until that key is pruned, and tokens made by a
 * node that already promoted the staged key validate here too.
 */
export type FernetKeys = readonly [FernetKey, ...FernetKey[]];

const VERSION = 0x80;
const VERSION_LEN = 1;
const TIMESTAMP_LEN = 8;
const IV_LEN = 16;
const BLOCK_LEN = 16;
const HMAC_LEN = 32;
const HEADER_LEN = VERSION_LEN + TIMESTAMP_LEN + IV_LEN;
/** Smallest token: header, one cipher block (PKCS7 always pads), HMAC. */
const MIN_TOKEN_BYTES = HEADER_LEN + BLOCK_LEN + HMAC_LEN;

/**
 * Longest token text we make or look at. Keystone's own are about 180-250
 * characters; the cap bounds the HMAC work an unauthenticated caller can ask
 * for (once per key) while leaving room for long non-UUID ids.
 */
export const MAX_TOKEN_LENGTH = 4096;

/** A fresh key in the key-file format: 32 random bytes, url-safe base64, padded (44 chars). */
export function generateFernetKey(): string {
  return randomBytes(32).toString('base64url') + '=';
}

/**
 * Parses a key as found in a key file (python-cryptography's format; the '='
 * may be missing). Throws TypeError for anything that is not 32 bytes.
 */
export function parseFernetKey(encoded: string): FernetKey {
  const raw = decodeBase64Url(encoded);
  if (raw === undefined || raw.length !== 32) {
    throw new TypeError('a Fernet key must be 32 bytes in url-safe base64 (44 characters)');
  }
  return { signingKey: raw.subarray(0, 16), encryptionKey: raw.subarray(16, 32) };
}

/**
 * Seals `plaintext` with the primary key, stamped with `now` (whole seconds,
 * rounded down as Fernet does), and returns the token without '=' padding.
 */
export function encrypt(keys: FernetKeys, plaintext: Uint8Array, now: Date = new Date()): string {
  const ms = now.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('Fernet timestamp must be a valid date after 1970');
  return sealToken(keys[0], plaintext, Math.floor(ms / 1000), randomBytes(IV_LEN));
}

/**
 * The deterministic core of `encrypt`. Exported only so tests can check the
 * spec's known-answer vectors; production code must use `encrypt`, which
 * draws a fresh random IV every time (reusing an IV leaks plaintext equality).
 */
export function sealToken(key: FernetKey, plaintext: Uint8Array, timestamp: number, iv: Uint8Array): string {
  if (iv.length !== IV_LEN) throw new RangeError('Fernet IV must be 16 bytes');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('Fernet timestamp must be whole seconds >= 0');
  const header = Buffer.alloc(HEADER_LEN);
  header.writeUInt8(VERSION, 0);
  header.writeBigUInt64BE(BigInt(timestamp), VERSION_LEN);
  header.set(iv, VERSION_LEN + TIMESTAMP_LEN);

  const cipher = createCipheriv('aes-128-cbc', key.encryptionKey, iv);
  const body = Buffer.concat([header, cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', key.signingKey).update(body).digest();
  const token = encodeBase64Url(Buffer.concat([body, mac]));
  // Checked here so we never hand out a token that `decrypt` would refuse.
  if (token.length > MAX_TOKEN_LENGTH) throw new RangeError(`token would exceed ${MAX_TOKEN_LENGTH} characters`);
  return token;
}

/**
 * Opens a token with whichever key signed it. Throws InvalidTokenError for
 * every failure; `reason` tells which check failed. The timestamp is the
 * Fernet one, in whole seconds since the epoch. No TTL is applied: token
 * expiry lives in the payload and is the caller's decision.
 */
export function decrypt(keys: FernetKeys, token: string): { payload: Uint8Array; timestamp: number } {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidTokenError('malformed', 'token is not a string of acceptable length');
  }
  const data = decodeBase64Url(token);
  if (data === undefined) throw new InvalidTokenError('malformed', 'token is not url-safe base64');
  if (data.length < MIN_TOKEN_BYTES || (data.length - HEADER_LEN - HMAC_LEN) % BLOCK_LEN !== 0) {
    throw new InvalidTokenError('malformed', 'token has an impossible length');
  }
  if (data[0] !== VERSION) throw new InvalidTokenError('version', 'token is not Fernet version 0x80');

  const signed = data.subarray(0, data.length - HMAC_LEN);
  const mac = data.subarray(data.length - HMAC_LEN);
  // The HMAC check selects the key, so only one AES decryption ever runs.
  const key = keys.find((k) => timingSafeEqual(createHmac('sha256', k.signingKey).update(signed).digest(), mac));
  if (key === undefined) throw new InvalidTokenError('signature', 'token signature matches no key');

  const iv = data.subarray(VERSION_LEN + TIMESTAMP_LEN, HEADER_LEN);
  const ciphertext = data.subarray(HEADER_LEN, data.length - HMAC_LEN);
  let payload: Buffer;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryptionKey, iv);
    payload = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (err) {
    throw new InvalidTokenError('decryption', 'token plaintext has bad padding', { cause: err });
  }
  return { payload, timestamp: Number(data.readBigUInt64BE(VERSION_LEN)) };
}
