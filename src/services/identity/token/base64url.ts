/**
 * Strict url-safe base64 (RFC 4648 §5). Node's Buffer decoder silently skips
 * characters outside the alphabet, so a token with garbage in it would still
 * decode; these helpers reject anything that is not the canonical encoding of
 * some byte string, so exactly one spelling of each token is accepted.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Encodes without '=' padding, as Keystone emits tokens and audit ids. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes url-safe base64 with or without its '=' padding (clients may send
 * either: Keystone restores the padding before decoding). Returns undefined
 * for anything else: other alphabets, wrong padding, impossible lengths, or
 * non-zero unused bits in the last character.
 */
export function decodeBase64Url(text: string): Buffer | undefined {
  let body = text;
  const padAt = text.indexOf('=');
  if (padAt !== -1) {
    body = text.slice(0, padAt);
    const padding = text.slice(padAt);
    // A padded string is a whole number of 4-char groups with at most "==".
    if (padding !== '=' && padding !== '==') return undefined;
    if (text.length % 4 !== 0) return undefined;
  }
  // One leftover character carries only 6 bits: never a valid encoding.
  if (body.length % 4 === 1 || !ALPHABET.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // Re-encoding catches non-canonical trailing bits ("AB" vs "AA" for 0x00).
  if (bytes.toString('base64url') !== body) return undefined;
  return bytes;
}
