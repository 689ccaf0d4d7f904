import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyOverrides } from './overrides.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nubes-policy-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('a missing file means no overrides', () => {
  assert.deepEqual(loadPolicyOverrides(join(dir, 'absent.yaml')), {});
});

test('reads oslo policy.yaml', () => {
  const path = file(
    'policy.yaml',
    [
      '# Operators keep commented-out defaults in the same file.',
      '#"identity:get_user": "rule:admin_required"',
      '"admin_required": "role:admin or is_admin:1"',
      'identity:list_users: "role:reader and system_scope:all"',
      '"open": ""',
    ].join('\n'),
  );
  assert.deepEqual(loadPolicyOverrides(path), {
    admin_required: 'role:admin or is_admin:1',
    'identity:list_users': 'role:reader and system_scope:all',
    open: '',
  });
});

test('reads policy.json', () => {
  const path = file('policy.json', '{"context_is_admin": "role:admin", "default": "rule:context_is_admin"}');
  assert.deepEqual(loadPolicyOverrides(path), { context_is_admin: 'role:admin', default: 'rule:context_is_admin' });
});

test('empty and comment-only files mean no overrides', () => {
  assert.deepEqual(loadPolicyOverrides(file('empty.yaml', '')), {});
  assert.deepEqual(loadPolicyOverrides(file('comments.yaml', '# nothing here\n')), {});
});

test('a rule named __proto__ stays an ordinary key', () => {
  const rules = loadPolicyOverrides(file('proto.yaml', '"__proto__": "@"\n'));
  assert.equal(Object.getPrototypeOf(rules), Object.prototype);
  assert.equal(Object.hasOwn(rules, '__proto__'), true);
});

test('invalid files throw clear errors naming the file', () => {
  const cases: [string, string, RegExp][] = [
    ['syntax.yaml', 'a: [1', /is not valid YAML or JSON/],
    ['dupes.yaml', 'a: "@"\na: "!"\n', /is not valid YAML or JSON.*unique/s],
    ['list.yaml', '- role:admin\n', /must map rule names to check strings, but holds a list/],
    ['scalar.yaml', 'role:admin\n', /must map rule names to check strings, but holds a string/],
    ['legacy.json', '{"a": [["role:admin"]]}', /rule "a" must be a check string, not a list/],
    ['number.yaml', 'a: 5\n', /rule "a" must be a check string, not a number/],
    ['badrule.yaml', 'a: "role:admin or"\n', /rule "a": unexpected end of rule/],
  ];
  for (const [name, text, message] of cases) {
    const path = file(name, text);
    assert.throws(() => loadPolicyOverrides(path), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, message, name);
      assert.ok(err.message.includes(path), `${name}: message names the file`);
      return true;
    });
  }
});

test('a directory is not a policy file', () => {
  assert.throws(() => loadPolicyOverrides(dir), /cannot read policy file/);
});
