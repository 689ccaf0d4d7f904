import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AUTH_METHODS, authMethodBit, bitmaskToMethods, methodsToBitmask } from './auth-methods.js';

test('the bit table is the documented one (tokens in the wild depend on it)', () => {
  assert.deepEqual(
    Object.fromEntries(AUTH_METHODS.map((m) => [m, authMethodBit(m)])),
    { external: 1, password: 2, token: 4, oauth1: 8, mapped: 16, application_credential: 32, totp: 64, ec2credential: 128 },
  );
});

test('methods round trip through the bitmask, highest bit first like Keystone', () => {
  assert.equal(methodsToBitmask(['password']), 2);
  assert.equal(methodsToBitmask(['password', 'token', 'password']), 6);
  assert.deepEqual(bitmaskToMethods(6), ['token', 'password']);
  assert.deepEqual(bitmaskToMethods(255), [...AUTH_METHODS].reverse());
  for (const m of AUTH_METHODS) assert.deepEqual(bitmaskToMethods(methodsToBitmask([m])), [m]);
});

test('unknown or missing methods cannot be encoded', () => {
  assert.throws(() => methodsToBitmask([]), TypeError);
  assert.throws(() => methodsToBitmask(['kerberos']), TypeError);
  assert.throws(() => methodsToBitmask(['toString']), TypeError);
});

test('masks with no method or an unowned bit do not decode', () => {
  for (const bad of [0, -1, 256, 257, 2 ** 32 + 2, 1.5, Number.NaN]) assert.equal(bitmaskToMethods(bad), undefined, String(bad));
});
