/**
 * Errors of the token format. They know nothing of HTTP: the identity API
 * maps InvalidTokenError to Keystone's 404 "Could not recognize Fernet
 * token" (or 401 for X-Auth-Token), as Keystone does.
 */

/** Why a token was rejected; for logs and tests, never shown to clients. */
export type InvalidTokenReason =
  | 'malformed' // not url-safe base64, too short/long, ciphertext not block-aligned
  | 'version' // first byte is not the Fernet version 0x80
  | 'signature' // no key's HMAC matches (wrong key, pruned key, or tampering)
  | 'decryption' // HMAC matched but the plaintext padding is broken
  | 'payload'; // authentic, but not a payload layout we understand

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  // The message never contains the token itself: tokens are bearer secrets
  // and error messages end up in logs.
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
