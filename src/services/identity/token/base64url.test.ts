import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeBase64Url, encodeBase64Url } from './base64url.js';

test('encodes url-safe without padding', () => {
  assert.equal(encodeBase64Url(Buffer.from([0xfb, 0xff])), '-_8');
  assert.equal(encodeBase64Url(new Uint8Array(16)).length, 22);
});

test('decodes with or without the = padding', () => {
  assert.deepEqual(decodeBase64Url('-_8'), Buffer.from([0xfb, 0xff]));
  assert.deepEqual(decodeBase64Url('-_8='), Buffer.from([0xfb, 0xff]));
  assert.deepEqual(decodeBase64Url('AA'), Buffer.from([0]));
  assert.deepEqual(decodeBase64Url('AA=='), Buffer.from([0]));
  assert.deepEqual(decodeBase64Url(''), Buffer.alloc(0));
});

test('rejects anything that is not canonical url-safe base64', () => {
  for (const bad of ['+/8=', '-_8==', 'AA=', 'AA===', 'A', 'AAAAA', 'A=A=', 'AB', 'AA==AA', ' AA', 'AA\n', 'é']) {
    assert.equal(decodeBase64Url(bad), undefined, bad);
  }
});
