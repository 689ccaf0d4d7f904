import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PasswordHasher } from './password-hasher.js';

/** Counts the slow checks by wrapping the private slow path. */
function counting(hasher: PasswordHasher): { slow: () => number } {
  let calls = 0;
  const target = hasher as unknown as { slowVerify: (p: string, s: string) => Promise<boolean> };
  const original = target.slowVerify.bind(hasher);
  target.slowVerify = (p, s) => {
    calls++;
    return original(p, s);
  };
  return { slow: () => calls };
}

describe('PasswordHasher verified-secret cache', () => {
  it('skips the slow check for a remembered pair and never for a wrong secret', async () => {
    const hasher = new PasswordHasher('bcrypt', 4, { ttlMs: 60_000, maxEntries: 10 });
    const stored = await hasher.hash('right-pw');
    const spy = counting(hasher);
    assert.equal(await hasher.verify('right-pw', stored), true);
    assert.equal(spy.slow(), 0, 'hashing remembers the pair');
    assert.equal(await hasher.verify('wrong-pw', stored), false);
    assert.equal(await hasher.verify('wrong-pw', stored), false);
    assert.equal(spy.slow(), 2, 'a wrong secret is hashed every time');
    const other = await new PasswordHasher('bcrypt', 4).hash('right-pw');
    assert.equal(await hasher.verify('right-pw', other), true);
    assert.equal(spy.slow(), 3, 'another stored hash of the same secret is its own entry');
  });

  it('forgets after the ttl, and remembers nothing when disabled', async () => {
    let now = 1_000;
    const hasher = new PasswordHasher('scrypt', 4, { ttlMs: 100, maxEntries: 10, now: () => now });
    const stored = await hasher.hash('pw-1');
    const spy = counting(hasher);
    now += 101;
    assert.equal(await hasher.verify('pw-1', stored), true);
    assert.equal(spy.slow(), 1);

    const off = new PasswordHasher('bcrypt', 4, { ttlMs: 0, maxEntries: 10 });
    const offStored = await off.hash('pw-2');
    const offSpy = counting(off);
    assert.equal(await off.verify('pw-2', offStored), true);
    assert.equal(offSpy.slow(), 1);
  });

  it('evicts the least recently remembered entry beyond maxEntries', async () => {
    const hasher = new PasswordHasher('bcrypt', 4, { ttlMs: 60_000, maxEntries: 2 });
    const a = await hasher.hash('a-pw');
    const b = await hasher.hash('b-pw');
    await hasher.hash('c-pw');
    const spy = counting(hasher);
    assert.equal(await hasher.verify('b-pw', b), true);
    assert.equal(spy.slow(), 0);
    assert.equal(await hasher.verify('a-pw', a), true);
    assert.equal(spy.slow(), 1, 'the oldest entry was evicted');
  });
});
