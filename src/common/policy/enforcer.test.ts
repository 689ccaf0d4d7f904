import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEnforcer, PolicyParseError, type PolicyCredentials, type RuleDefault } from './index.js';

const projectMember: PolicyCredentials = { user_id: 'u1', project_id: 'p1', roles: ['member', 'reader'] };
const projectAdmin: PolicyCredentials = { user_id: 'u0', project_id: 'p0', roles: ['admin', 'member', 'reader'] };
const domainAdmin: PolicyCredentials = { user_id: 'u2', domain_id: 'd1', roles: ['admin'] };
const systemAdmin: PolicyCredentials = { user_id: 'u3', system_scope: 'all', roles: ['admin'] };
const unscoped: PolicyCredentials = { user_id: 'u4', roles: [] };

const defaults: RuleDefault[] = [
  { name: 'admin_required', checkStr: 'role:admin' },
  { name: 'owner', checkStr: 'project_id:%(project_id)s' },
  { name: 'admin_or_owner', checkStr: 'rule:admin_required or rule:owner' },
  { name: 'compute:servers:show', checkStr: 'rule:admin_or_owner', scopeTypes: ['project'] },
  { name: 'identity:list_users', checkStr: 'role:admin', scopeTypes: ['system', 'domain'] },
  { name: 'open', checkStr: '' },
];

test('enforce evaluates named rules through rule: references', () => {
  const e = new PolicyEnforcer(defaults);
  assert.equal(e.enforce('compute:servers:show', projectMember, { project_id: 'p1' }), true);
  assert.equal(e.enforce('compute:servers:show', projectMember, { project_id: 'p2' }), false);
  assert.equal(e.enforce('compute:servers:show', projectAdmin, { project_id: 'p2' }), true);
  assert.equal(e.enforce('open', unscoped), true);
  assert.equal(e.enforce('owner', projectMember), false, 'no target means no project_id to match');
});

test('unknown rules fall back to "default", or deny when there is none', () => {
  assert.equal(new PolicyEnforcer(defaults).enforce('nope', projectAdmin), false);
  const withDefault = new PolicyEnforcer([...defaults, { name: 'default', checkStr: 'role:admin' }]);
  assert.equal(withDefault.enforce('nope', projectAdmin), true);
  assert.equal(withDefault.enforce('nope', projectMember), false);
  // oslo resolves rule: references through the same fallback.
  const viaRef = new PolicyEnforcer([{ name: 'default', checkStr: '@' }, { name: 'x', checkStr: 'rule:missing' }]);
  assert.equal(viaRef.enforce('x', unscoped), true);
});

test('a default that refers to a missing rule does not loop through itself', () => {
  const e = new PolicyEnforcer([{ name: 'default', checkStr: 'rule:missing' }]);
  assert.equal(e.enforce('anything', projectAdmin), false);
});

test('rule: loops deny instead of overflowing', () => {
  const e = new PolicyEnforcer([
    { name: 'a', checkStr: 'rule:b' },
    { name: 'b', checkStr: 'rule:c' },
    { name: 'c', checkStr: 'rule:a' },
    { name: 'self', checkStr: 'rule:self or role:admin' },
  ]);
  assert.equal(e.enforce('a', projectAdmin), false);
  assert.equal(e.enforce('self', projectAdmin), true);
  assert.equal(e.enforce('self', projectMember), false);
  assert.deepEqual(e.checkRules().sort(), [
    'policy rule "a" is part of a rule: cycle',
    'policy rule "b" is part of a rule: cycle',
    'policy rule "c" is part of a rule: cycle',
    'policy rule "self" is part of a rule: cycle',
  ]);
});

test('checkRules reports undefined references', () => {
  const e = new PolicyEnforcer([{ name: 'x', checkStr: 'rule:nowhere or rule:nowhere' }]);
  assert.deepEqual(e.checkRules(), ['policy rule "x" references undefined rule "nowhere"']);
  assert.deepEqual(new PolicyEnforcer(defaults).checkRules(), []);
});

test('overrides replace defaults and may add new rules', () => {
  const e = new PolicyEnforcer(defaults, {
    overrides: { admin_required: 'role:superuser', 'compute:servers:show': 'rule:custom', custom: 'role:reader' },
  });
  assert.equal(e.enforce('admin_required', projectAdmin), false);
  assert.equal(e.enforce('admin_required', { roles: ['SuperUser'] }), true);
  assert.equal(e.enforce('compute:servers:show', projectMember, { project_id: 'elsewhere' }), true);
  assert.equal(e.effectiveRules()['compute:servers:show'], 'rule:custom');
  assert.equal(e.effectiveRules().owner, 'project_id:%(project_id)s');
});

test('overrides win over defaults registered later', () => {
  const e = new PolicyEnforcer([], { overrides: { 'image:get': '!' } });
  e.register([{ name: 'image:get', checkStr: '@' }, { name: 'image:list', checkStr: '@' }]);
  assert.equal(e.enforce('image:get', projectAdmin), false);
  assert.equal(e.enforce('image:list', projectAdmin), true);
});

test('bad check strings throw at construction or registration, naming the rule', () => {
  assert.throws(
    () => new PolicyEnforcer(defaults, { overrides: { admin_required: 'role:admin or' } }),
    (err: unknown) => err instanceof PolicyParseError && err.ruleName === 'admin_required' && /override/.test(err.message),
  );
  const e = new PolicyEnforcer(defaults);
  assert.throws(() => e.register([{ name: 'ok', checkStr: '@' }, { name: 'broken', checkStr: 'role:a role:b' }]), /"broken"/);
  // The failed batch left nothing behind.
  assert.equal(e.listRules().some((r) => r.name === 'ok'), false);
});

test('registering a name twice is an error', () => {
  const e = new PolicyEnforcer(defaults);
  assert.throws(() => e.register([{ name: 'owner', checkStr: '@' }]), /registered twice/);
  assert.throws(() => new PolicyEnforcer([{ name: 'x', checkStr: '@' }, { name: 'x', checkStr: '!' }]), /registered twice/);
});

test('listRules returns copies of the registered defaults in order', () => {
  const e = new PolicyEnforcer(defaults, { overrides: { owner: '!' } });
  const listed = e.listRules();
  assert.deepEqual(listed.map((r) => r.name), defaults.map((r) => r.name));
  assert.equal(listed.find((r) => r.name === 'owner')?.checkStr, 'project_id:%(project_id)s');
  listed[0]!.checkStr = '@';
  assert.equal(e.enforce('admin_required', projectMember), false);
});

test('scope types are ignored unless enforceScope is on', () => {
  const e = new PolicyEnforcer(defaults);
  assert.equal(e.enforce('identity:list_users', projectAdmin), true);
  assert.equal(e.enforce('compute:servers:show', systemAdmin, { project_id: 'p1' }), true);
});

test('enforceScope denies tokens whose scope is not in scopeTypes', () => {
  const e = new PolicyEnforcer(defaults, { enforceScope: true });
  assert.equal(e.enforce('identity:list_users', systemAdmin), true);
  assert.equal(e.enforce('identity:list_users', domainAdmin), true);
  assert.equal(e.enforce('identity:list_users', projectAdmin), false);
  assert.equal(e.enforce('compute:servers:show', projectAdmin, { project_id: 'p1' }), true);
  assert.equal(e.enforce('compute:servers:show', systemAdmin, { project_id: 'p1' }), false);
  assert.equal(e.enforce('compute:servers:show', unscoped, { project_id: 'p1' }), false);
  // Rules without scopeTypes, and rules reached through rule:, are not scope-checked.
  assert.equal(e.enforce('admin_or_owner', systemAdmin), true);
});

test('a system token with project fields still counts as system scoped', () => {
  const e = new PolicyEnforcer(defaults, { enforceScope: true });
  const mixed: PolicyCredentials = { ...systemAdmin, project_id: 'p1', domain_id: 'd1' };
  assert.equal(e.enforce('identity:list_users', mixed), true);
  assert.equal(e.enforce('compute:servers:show', mixed, { project_id: 'p1' }), false);
});

test('deprecated rules: old check string honoured until enforceNewDefaults', () => {
  const rule: RuleDefault = {
    name: 'volume:create',
    checkStr: 'role:member',
    deprecatedRule: { name: 'volume:create', checkStr: 'role:_member_' },
  };
  const legacy: PolicyCredentials = { project_id: 'p1', roles: ['_member_'] };
  assert.equal(new PolicyEnforcer([rule]).enforce('volume:create', legacy), false);
  const lenient = new PolicyEnforcer([rule], { enforceNewDefaults: false });
  assert.equal(lenient.enforce('volume:create', legacy), true);
  assert.equal(lenient.enforce('volume:create', projectMember), true);
  // An explicit override of the new name is used as written.
  const overridden = new PolicyEnforcer([rule], { enforceNewDefaults: false, overrides: { 'volume:create': 'role:member' } });
  assert.equal(overridden.enforce('volume:create', legacy), false);
});

test('deprecated rules: an override of the old name carries over to the new name', () => {
  const rule: RuleDefault = {
    name: 'volume:create_volume',
    checkStr: 'role:member',
    deprecatedRule: { name: 'volume:create', checkStr: 'role:_member_' },
  };
  const custom = new PolicyEnforcer([rule], { overrides: { 'volume:create': 'role:creator' } });
  assert.equal(custom.enforce('volume:create_volume', { roles: ['creator'] }), true);
  assert.equal(custom.enforce('volume:create_volume', projectMember), false);
  // The alias that sample files write is not a customisation.
  const alias = new PolicyEnforcer([rule], { overrides: { 'volume:create': 'rule:volume:create_volume' } });
  assert.equal(alias.enforce('volume:create_volume', projectMember), true);
  // Overriding the old name with its old default changes nothing.
  const same = new PolicyEnforcer([rule], { overrides: { 'volume:create': 'role:_member_' } });
  assert.equal(same.enforce('volume:create_volume', { roles: ['_member_'] }), false);
});

test('creds are compared case-insensitively only for role:', () => {
  const e = new PolicyEnforcer([
    { name: 'r', checkStr: 'role:Admin' },
    { name: 'g', checkStr: 'roles:Admin' },
  ]);
  assert.equal(e.enforce('r', { roles: ['ADMIN'] }), true);
  assert.equal(e.enforce('g', { roles: ['admin'] }), false);
  assert.equal(e.enforce('g', { roles: ['Admin'] }), true);
});

test('nested and flattened targets both work through the enforcer', () => {
  const e = new PolicyEnforcer([
    { name: 'identity:get_user', checkStr: 'role:admin or user_id:%(target.user.id)s' },
    { name: 'identity:domain_reader', checkStr: 'role:reader and domain_id:%(target.user.domain_id)s' },
  ]);
  assert.equal(e.enforce('identity:get_user', projectMember, { 'target.user.id': 'u1' }), true);
  assert.equal(e.enforce('identity:get_user', projectMember, { target: { user: { id: 'u1' } } }), true);
  assert.equal(e.enforce('identity:get_user', projectMember, { target: { user: { id: 'u9' } } }), false);
  const domainReader: PolicyCredentials = { domain_id: 'd1', roles: ['reader'] };
  assert.equal(e.enforce('identity:domain_reader', domainReader, { target: { user: { domain_id: 'd1' } } }), true);
  assert.equal(e.enforce('identity:domain_reader', domainReader, { target: { user: {} } }), false);
});
