import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, referencedRules, type Check } from './check.js';
import { parseRule } from './parser.js';
import type { PolicyCredentials, PolicyTarget } from './types.js';

const member: PolicyCredentials = {
  user_id: 'u1',
  user_domain_id: 'default',
  project_id: 'p1',
  project_domain_id: 'default',
  roles: ['Member', 'reader'],
  is_admin_project: false,
  groups: ['g1', 'g2'],
  token: { audit: { id: 'a1' } },
};

function check(rule: string, creds: PolicyCredentials = member, target: PolicyTarget = {}, rules: Record<string, string> = {}): boolean {
  const parsed = new Map(Object.entries(rules).map(([k, v]) => [k, parseRule(v)] as [string, Check]));
  const resolve = (name: string) => {
    const c = parsed.get(name);
    return c === undefined ? undefined : { name, check: c };
  };
  return evaluate(parseRule(rule), { creds, target, resolve });
}

test('@ allows, ! denies, empty allows', () => {
  assert.equal(check('@'), true);
  assert.equal(check('!'), false);
  assert.equal(check(''), true);
});

test('role: is case-insensitive both ways', () => {
  assert.equal(check('role:member'), true);
  assert.equal(check('role:READER'), true);
  assert.equal(check('role:admin'), false);
  assert.equal(check('role:%(r)s', member, { r: 'MEMBER' }), true);
  assert.equal(check('role:%(r)s', member, {}), false);
  assert.equal(check('role:member', { roles: undefined } as unknown as PolicyCredentials), false);
});

test('and / or / not', () => {
  assert.equal(check('role:member and role:reader'), true);
  assert.equal(check('role:member and role:admin'), false);
  assert.equal(check('role:admin or role:reader'), true);
  assert.equal(check('role:admin or role:service'), false);
  assert.equal(check('not role:admin'), true);
  assert.equal(check('not role:member'), false);
});

test('precedence changes outcomes the way oslo does', () => {
  // or binds loosest: @ or (! and !) is true; (@ or !) and ! would be false.
  assert.equal(check('@ or ! and !'), true);
  assert.equal(check('(@ or !) and !'), false);
  // not binds tighter than and: (not !) and @ is true.
  assert.equal(check('not ! and @'), true);
  assert.equal(check('not (@ and @)'), false);
});

test('target substitutions compare as strings', () => {
  assert.equal(check('project_id:%(project_id)s', member, { project_id: 'p1' }), true);
  assert.equal(check('project_id:%(project_id)s', member, { project_id: 'p2' }), false);
  assert.equal(check('user_id:%(target.user.id)s', member, { 'target.user.id': 'u1' }), true);
  assert.equal(check('user_id:%(target.user.id)s', member, { target: { user: { id: 'u1' } } }), true);
  assert.equal(check('user_domain_id:%(target.user.domain_id)s', member, { target: { user: { domain_id: 'other' } } }), false);
});

test('a missing target key denies without throwing', () => {
  assert.equal(check('project_id:%(project_id)s', member, {}), false);
  assert.equal(check('user_id:%(target.user.id)s', member, { target: {} }), false);
  assert.equal(check('not project_id:%(project_id)s', member, {}), true);
});

test('missing or null credentials deny, even against a null target', () => {
  assert.equal(check('domain_id:%(domain_id)s', member, { domain_id: 'd1' }), false);
  assert.equal(check('domain_id:%(domain_id)s', { ...member, domain_id: null } as unknown as PolicyCredentials, { domain_id: null }), false);
});

test('constants: True, quoted literals on either side', () => {
  assert.equal(check('is_admin_project:False'), true);
  assert.equal(check('is_admin_project:True'), false);
  assert.equal(check('is_admin:True', { roles: [], is_admin: true }), true);
  assert.equal(check("user_domain_id:'default'"), true);
  assert.equal(check("'member':%(role.name)s", member, { role: { name: 'member' } }), true);
  assert.equal(check("'member':%(role.name)s", member, { role: { name: 'admin' } }), false);
  assert.equal(check('True:%(user.enabled)s', member, { user: { enabled: true } }), true);
  assert.equal(check('True:%(user.enabled)s', member, { user: { enabled: false } }), false);
});

test('system_scope:all matches system tokens only', () => {
  assert.equal(check('system_scope:all', { roles: ['admin'], system_scope: 'all' }), true);
  assert.equal(check('system_scope:all', member), false);
});

test('list credentials match when any element equals', () => {
  assert.equal(check('roles:reader'), true);
  assert.equal(check('roles:reader_x'), false);
  assert.equal(check('groups:%(group_id)s', member, { group_id: 'g2' }), true);
  // Generic checks are exact: only role: ignores case.
  assert.equal(check('roles:member'), false);
});

test('dotted credential paths walk into the credentials', () => {
  assert.equal(check('token.audit.id:a1'), true);
  assert.equal(check('token.audit.id:a2'), false);
  assert.equal(check('token.nope.id:a1'), false);
});

test('http checks never pass', () => {
  assert.equal(check('http://policy.example/check'), false);
  assert.equal(check('not http://policy.example/check'), true);
});

test('rule: references, unknown names and loops', () => {
  const rules = { admin: 'role:admin', reader: 'role:reader', either: 'rule:admin or rule:reader', a: 'rule:b', b: 'rule:a' };
  assert.equal(check('rule:reader', member, {}, rules), true);
  assert.equal(check('rule:admin', member, {}, rules), false);
  assert.equal(check('rule:either', member, {}, rules), true);
  assert.equal(check('rule:nope', member, {}, rules), false);
  assert.equal(check('rule:a', member, {}, rules), false);
  assert.equal(check('rule:a or rule:reader', member, {}, rules), true);
  // A rule used twice side by side is not a loop.
  assert.equal(check('rule:reader and rule:reader', member, {}, rules), true);
});

test('referencedRules lists rule: names', () => {
  assert.deepEqual(referencedRules(parseRule('rule:a or (role:x and not rule:b)')), ['a', 'b']);
});
