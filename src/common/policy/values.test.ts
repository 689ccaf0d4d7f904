import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup, pyStr, renderTemplate } from './values.js';

test('lookup prefers the flat dotted key, then walks nested objects', () => {
  assert.deepEqual(lookup({ 'target.user.id': 'flat', target: { user: { id: 'nested' } } }, 'target.user.id'), {
    found: true,
    value: 'flat',
  });
  assert.deepEqual(lookup({ target: { user: { id: 'nested' } } }, 'target.user.id'), { found: true, value: 'nested' });
  assert.deepEqual(lookup({ 'target.user': { id: 'mixed' } }, 'target.user.id'), { found: true, value: 'mixed' });
  // A flat key that is a dead end must not hide the nested path.
  assert.deepEqual(lookup({ 'target.user': 'x', target: { user: { id: 'ok' } } }, 'target.user.id'), {
    found: true,
    value: 'ok',
  });
});

test('lookup: missing keys, undefined values and prototype keys are not found', () => {
  assert.equal(lookup({}, 'a').found, false);
  assert.equal(lookup({ a: undefined }, 'a').found, false);
  assert.equal(lookup({ a: 'str' }, 'a.length').found, false);
  assert.equal(lookup({}, 'constructor').found, false);
  assert.equal(lookup({}, '__proto__').found, false);
  assert.deepEqual(lookup({ a: null }, 'a'), { found: true, value: null });
});

test('pyStr renders values like Python str()', () => {
  assert.equal(pyStr(true), 'True');
  assert.equal(pyStr(false), 'False');
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(7), '7');
  assert.equal(pyStr('x'), 'x');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(typeof pyStr(circular), 'string');
  assert.equal(typeof pyStr(Object.create(null)), 'string');
});

test('renderTemplate substitutes or reports a missing key', () => {
  assert.equal(renderTemplate(['p-', { key: 'a' }], { a: true }), 'p-True');
  assert.equal(renderTemplate([{ key: 'a' }], {}), undefined);
  assert.equal(renderTemplate(['lit'], {}), 'lit');
});
