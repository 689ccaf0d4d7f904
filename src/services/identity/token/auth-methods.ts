/**
 * Auth methods travel in a token as one integer: bit i set means the i-th
 * entry of a fixed table. Keystone derives its table from the order of the
 * `[auth] methods` option; ours is fixed, and its first six entries are
 * Keystone's default order, so the bits mean the same in both:
 *
 *   external=1, password=2, token=4, oauth1=8, mapped=16,
 *   application_credential=32, totp=64, ec2credential=128
 *
 * Never reorder or remove entries: tokens already issued would change
 * meaning. Append new methods at the end.
 */
export const AUTH_METHODS = [
  'external',
  'password',
  'token',
  'oauth1',
  'mapped',
  'application_credential',
  'totp',
  // Tokens from POST /v3/ec2tokens (Keystone drops this method from its Fernet payload).
  'ec2credential',
] as const;

export type AuthMethod = (typeof AUTH_METHODS)[number];

const ALL_BITS = 2 ** AUTH_METHODS.length - 1;

export function isAuthMethod(name: string): name is AuthMethod {
  return (AUTH_METHODS as readonly string[]).includes(name);
}

/** The bit of one method: 2 ** its index in AUTH_METHODS. */
export function authMethodBit(name: AuthMethod): number {
  return 2 ** AUTH_METHODS.indexOf(name);
}

/** Encodes a non-empty list of known methods; duplicates collapse. Throws TypeError otherwise. */
export function methodsToBitmask(methods: readonly string[]): number {
  if (methods.length === 0) throw new TypeError('a token needs at least one auth method');
  let mask = 0;
  for (const name of methods) {
    if (!isAuthMethod(name)) throw new TypeError(`auth method ${JSON.stringify(name)} has no token encoding`);
    mask |= authMethodBit(name);
  }
  return mask;
}

/**
 * Decodes a bitmask; undefined when it is empty or has a bit no method owns.
 * Methods come out highest bit first, as Keystone lists them, so a password
 * token rescoped with the token method reports ['token', 'password'].
 */
export function bitmaskToMethods(mask: number): AuthMethod[] | undefined {
  if (!Number.isSafeInteger(mask) || mask <= 0 || mask > ALL_BITS) return undefined;
  const methods: AuthMethod[] = [];
  for (let i = AUTH_METHODS.length - 1; i >= 0; i--) {
    const name = AUTH_METHODS[i];
    if (name !== undefined && (mask & (2 ** i)) !== 0) methods.push(name);
  }
  return methods;
}
