import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCheck, type Check } from './check.js';
import { parseRule, PolicyParseError } from './parser.js';

const show = (s: string): string => formatCheck(parseRule(s));

test('constants: @, ! and the empty string', () => {
  assert.deepEqual(parseRule('@'), { kind: 'true' });
  assert.deepEqual(parseRule('!'), { kind: 'false' });
  assert.deepEqual(parseRule(''), { kind: 'true' });
});

test('leaf kinds', () => {
  assert.deepEqual(parseRule('role:admin'), { kind: 'role', source: 'role:admin', role: ['admin'] });
  assert.deepEqual(parseRule('rule:admin_required'), { kind: 'rule', source: 'rule:admin_required', name: 'admin_required' });
  assert.deepEqual(parseRule('http://example.com/check'), { kind: 'http', source: 'http://example.com/check' });
  assert.equal(parseRule('https://example.com/check').kind, 'http');
  assert.deepEqual(parseRule('project_id:%(project_id)s'), {
    kind: 'generic',
    source: 'project_id:%(project_id)s',
    left: { type: 'credential', path: 'project_id' },
    right: [{ key: 'project_id' }],
  });
});

test('generic operands: literals on the left, quotes stripped on the right', () => {
  const literal = (s: string): Check => parseRule(s);
  assert.deepEqual(literal("'member':%(role.name)s"), {
    kind: 'generic',
    source: "'member':%(role.name)s",
    left: { type: 'literal', value: 'member' },
    right: [{ key: 'role.name' }],
  });
  assert.deepEqual((literal('True:%(user.enabled)s') as { left: unknown }).left, { type: 'literal', value: 'True' });
  assert.deepEqual((literal('"x":%(a)s') as { left: unknown }).left, { type: 'literal', value: 'x' });
  assert.deepEqual((literal('42:%(a)s') as { left: unknown }).left, { type: 'literal', value: '42' });
  assert.deepEqual((literal("name:'web'") as { right: unknown }).right, ['web']);
  assert.deepEqual((literal('is_admin:True') as { right: unknown }).right, ['True']);
});

test('templates: text around substitutions and %% escapes', () => {
  const right = (s: string): unknown => (parseRule(s) as { right: unknown }).right;
  assert.deepEqual(right('name:pre-%(a)s-%(b.c)s'), ['pre-', { key: 'a' }, '-', { key: 'b.c' }]);
  assert.deepEqual(right('name:100%%'), ['100%']);
  assert.deepEqual(right('name:'), ['']);
});

test('precedence: not over and over or, left to right', () => {
  assert.equal(show('a:1 or b:2 and c:3'), '(a:1 or (b:2 and c:3))');
  assert.equal(show('a:1 and b:2 or c:3'), '((a:1 and b:2) or c:3)');
  assert.equal(show('not a:1 and b:2'), '(not a:1 and b:2)');
  assert.equal(show('a:1 or not b:2 and c:3'), '(a:1 or (not b:2 and c:3))');
  assert.equal(show('a:1 and b:2 and c:3'), '(a:1 and b:2 and c:3)');
  assert.equal(show('not not a:1'), 'not not a:1');
});

test('parentheses group, including ones glued to words', () => {
  assert.equal(show('(a:1 or b:2) and c:3'), '((a:1 or b:2) and c:3)');
  assert.equal(show('not (a:1 or b:2)'), 'not (a:1 or b:2)');
  assert.equal(show('((role:admin))'), 'role:admin');
  assert.equal(show('(project_id:%(project_id)s)'), 'project_id:%(project_id)s');
  assert.equal(show(' a:1   or\tb:2 '), '(a:1 or b:2)');
});

test('operators are case-insensitive words', () => {
  assert.equal(show('a:1 AND b:2 Or NOT c:3'), '((a:1 and b:2) or not c:3)');
});

test('bad syntax throws PolicyParseError naming the problem', () => {
  const bad: [string, RegExp][] = [
    ['admin', /"admin" is not a check/],
    ['role:admin or', /unexpected end of rule/],
    ['and role:admin', /unexpected "and"/],
    ['role:a role:b', /unexpected "role:b"/],
    ['(role:a', /missing '\)'/],
    ['role:a)', /unexpected '\)'/],
    ['()', /unexpected '\)'/],
    ['not', /unexpected end of rule/],
    ['   ', /unexpected end of rule/],
    [':x', /nothing before ':'/],
    ['rule:', /names no rule/],
    ['role:', /names no role/],
    ['a:50%', /'%' that is not/],
    ['a:%(x)d', /'%' that is not/],
    ['a:%()s', /empty %\(\)s/],
    ["'quoted'", /is not a check/],
  ];
  for (const [input, message] of bad) {
    assert.throws(() => parseRule(input), (err: unknown) => {
      assert.ok(err instanceof PolicyParseError, `${input}: ${String(err)}`);
      assert.match(err.message, message, input);
      assert.equal(err.checkStr, input);
      return true;
    });
  }
});

test('deep nesting is rejected instead of overflowing the stack', () => {
  assert.throws(() => parseRule(`${'('.repeat(1000)}role:a${')'.repeat(1000)}`), PolicyParseError);
  assert.throws(() => parseRule(`${'not '.repeat(1000)}role:a`), PolicyParseError);
  assert.equal(show(`${'('.repeat(10)}role:a${')'.repeat(10)}`), 'role:a');
});
