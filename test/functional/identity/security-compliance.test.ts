import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

const V3 = '/identity/v3';
const DAY = 86_400_000;

/** A fresh project-scoped admin token (the cached one expires when the clock jumps days ahead). */
async function adminLogin(t: TestCloud): Promise<string> {
  const res = await t.login({ name: 'admin', password: ADMIN_PASSWORD }, { project: { name: 'admin', domain: { id: 'default' } } });
  assert.equal(res.status, 201, res.text);
  return res.token;
}

/** Shared helpers over one test cloud. */
function helpers(get: () => { t: TestCloud; admin: string }) {
  const createUser = async (user: Record<string, unknown>) => {
    const { t, admin } = get();
    const res = await t.request('POST', `${V3}/users`, { token: admin, body: { user } });
    assert.equal(res.status, 201, res.text);
    return res.json.user;
  };
  const authById = (userId: string, password: string) =>
    get().t.request('POST', `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ['password'], password: { user: { id: userId, password } } } } } });
  const changeOwn = (userId: string, original: string, password: string) =>
    get().t.request('POST', `${V3}/users/${userId}/password`, { body: { user: { original_password: original, password } } });
  const adminReset = (userId: string, password: string) =>
    get().t.request('PATCH', `${V3}/users/${userId}`, { token: get().admin, body: { user: { id: userId, password } } });
  return { createUser, authById, changeOwn, adminReset };
}

describe('identity: security compliance with Tempest settings (lockout 2/5s, history 2, min age 0)', () => {
  let t: TestCloud;
  let admin: string;
  const clock = new ManualClock(new Date('2030-03-01T12:00:00Z'));
  const { createUser, authById, changeOwn, adminReset } = helpers(() => ({ t, admin }));

  before(async () => {
    t = await startTestCloud({
      clock,
      set: { 'identity.lockout_failure_attempts': 2, 'identity.lockout_duration': 5, 'identity.unique_last_password_count': 2, 'identity.minimum_password_age': 0 },
    });
    admin = await t.adminToken();
  });
  after(async () => {
    await t.close();
  });

  it('locks the account after 2 failures and unlocks after the duration (test_user_account_lockout)', async () => {
    const user = await createUser({ name: 'lock-me', password: 'right-pw' });
    assert.equal((await authById(user.id, 'right-pw')).status, 201);
    for (let i = 0; i < 2; i++) {
      const bad = await authById(user.id, 'wrong-pw');
      assert.equal(bad.status, 401);
      assert.equal(bad.json.error.message, 'The request you have made requires authentication.');
    }
    const locked = await authById(user.id, 'right-pw');
    assert.equal(locked.status, 401);
    assert.equal(locked.json.error.message, `The account is locked for user: ${user.id}.`);
    const lockedChange = await changeOwn(user.id, 'right-pw', 'other-pw');
    assert.equal(lockedChange.status, 401);
    assert.equal(lockedChange.json.error.message, `The account is locked for user: ${user.id}.`);
    clock.advance(4000);
    assert.equal((await authById(user.id, 'right-pw')).status, 401, 'still inside the 5 s window');
    clock.advance(2000);
    assert.equal((await authById(user.id, 'right-pw')).status, 201);
  });

  it('a successful authentication resets the failure counter; admins may exempt users', async () => {
    const user = await createUser({ name: 'reset-me', password: 'right-pw' });
    for (let i = 0; i < 3; i++) {
      assert.equal((await authById(user.id, 'wrong-pw')).status, 401);
      assert.equal((await authById(user.id, 'right-pw')).status, 201);
    }
    const exempt = await createUser({ name: 'exempt', password: 'right-pw', options: { ignore_lockout_failure_attempts: true } });
    for (let i = 0; i < 4; i++) assert.equal((await authById(exempt.id, 'wrong-pw')).status, 401);
    assert.equal((await authById(exempt.id, 'right-pw')).status, 201);
    // Re-enabling through PATCH clears a lockout, as Keystone's enabled setter does.
    const relock = await createUser({ name: 'relock', password: 'right-pw' });
    for (let i = 0; i < 2; i++) await authById(relock.id, 'wrong-pw');
    assert.equal((await authById(relock.id, 'right-pw')).status, 401);
    await t.request('PATCH', `${V3}/users/${relock.id}`, { token: admin, body: { user: { enabled: true } } });
    assert.equal((await authById(relock.id, 'right-pw')).status, 201);
  });

  it('follows test_user_update_own_password', async () => {
    const user = await createUser({ name: 'own-pw', password: 'old-pass' });
    const first = await authById(user.id, 'old-pass');
    const oldToken = String(first.headers['x-subject-token']);
    assert.equal((await changeOwn(user.id, 'old-pass', 'new-pass')).status, 204);
    clock.advance(1000);
    assert.equal((await authById(user.id, 'new-pass')).status, 201);
    const withOld = await t.request('POST', `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ['token'], token: { id: oldToken } } } } });
    assert.equal(withOld.status, 404, 'Tempest expects IdentityError (not 401) for the revoked token');
    assert.equal((await authById(user.id, 'old-pass')).status, 401);
    // Cleanup path (_restore_password): cycle through 2 random passwords, then back to the old one.
    assert.equal((await changeOwn(user.id, 'new-pass', 'rand-1')).status, 204);
    assert.equal((await changeOwn(user.id, 'rand-1', 'rand-2')).status, 204);
    assert.equal((await changeOwn(user.id, 'rand-2', 'old-pass')).status, 204);
    clock.advance(1000);
    assert.equal((await authById(user.id, 'old-pass')).status, 201);
  });

  it('follows test_password_history_check_self_service_api', async () => {
    const user = await createUser({ name: 'history', password: 'old-pass' });
    assert.equal((await changeOwn(user.id, 'old-pass', 'new-pass1')).status, 204);
    const same = await changeOwn(user.id, 'new-pass1', 'new-pass1');
    assert.equal(same.status, 400);
    assert.equal(same.json.error.message, 'The new password cannot be identical to a previous password. The total number which includes the new password must be unique is 2.');
    assert.equal((await changeOwn(user.id, 'new-pass1', 'old-pass')).status, 400);
    assert.equal((await changeOwn(user.id, 'new-pass1', 'new-pass2')).status, 204);
    // Two changes later the oldest password is out of the window again.
    assert.equal((await changeOwn(user.id, 'new-pass2', 'new-pass3')).status, 204);
    assert.equal((await changeOwn(user.id, 'new-pass3', 'old-pass')).status, 204);
    const rows = await t.cloud.identity.service.core.db.selectFrom('identity_passwords').select('id').where('user_id', '=', user.id).execute();
    assert.equal(rows.length, 3, 'history keeps unique_last_password_count + 1 rows');
  });

  it('does not apply history to admin resets (test_password_history_not_enforced_in_admin_reset)', async () => {
    const user = await createUser({ name: 'admin-reset', password: 'old-pass' });
    assert.equal((await adminReset(user.id, 'new-pass')).status, 200);
    assert.equal((await authById(user.id, 'new-pass')).status, 201);
    assert.equal((await adminReset(user.id, 'new-pass')).status, 200);
    assert.equal((await adminReset(user.id, 'old-pass')).status, 200);
    assert.equal((await authById(user.id, 'old-pass')).status, 201);
  });

  it('lets a user change the password the admin gave them (test_update_user_password)', async () => {
    const user = await createUser({ name: 'pw-update', password: 'orig-pass' });
    const res = await t.request('POST', `${V3}/users/${user.id}/password`, { token: admin, body: { user: { password: 'next-pass', original_password: 'orig-pass' } } });
    assert.equal(res.status, 204);
    clock.advance(1000);
    const login = await authById(user.id, 'next-pass');
    assert.equal(login.status, 201);
    const show = await t.request('GET', `${V3}/auth/tokens`, { token: admin, headers: { 'x-subject-token': String(login.headers['x-subject-token']) } });
    assert.equal(show.json.token.user.id, user.id);
    assert.equal(show.json.token.user.name, 'pw-update');
  });
});

describe('identity: password expiry, minimum age, regex and lock_password', () => {
  let t: TestCloud;
  let admin: string;
  const clock = new ManualClock(new Date('2030-03-01T12:00:00.250Z'));
  const { createUser, authById, changeOwn, adminReset } = helpers(() => ({ t, admin }));
  const description = 'at least 7 characters with a letter and a digit';

  before(async () => {
    t = await startTestCloud({
      clock,
      set: {
        'identity.minimum_password_age': 1,
        'identity.password_expires_days': 10,
        'identity.password_regex': '^(?=.*\\d)(?=.*[a-zA-Z]).{7,}$',
        'identity.password_regex_description': description,
      },
    });
    admin = await t.adminToken();
    // Keep the bootstrap admin usable while the clock jumps ahead.
    const adminId = (await t.cloud.identity.service.users.findByName('admin', 'default'))!.id;
    await t.request('PATCH', `${V3}/users/${adminId}`, { token: admin, body: { user: { options: { ignore_password_expiry: true } } } });
  });
  after(async () => {
    await t.close();
  });

  it('refuses passwords that do not match password_regex, with its description', async () => {
    const weak = await t.request('POST', `${V3}/users`, { token: admin, body: { user: { name: 'weak', password: 'abc' } } });
    assert.equal(weak.status, 400);
    assert.equal(weak.json.error.message, `The password does not match the requirements: ${description}.`);
    const user = await createUser({ name: 'strong', password: 'abcdef1' });
    assert.equal((await adminReset(user.id, 'short')).status, 400);
    const own = await changeOwn(user.id, 'abcdef1', 'nodigits');
    assert.equal(own.status, 400);
    assert.equal(own.json.error.message, `The password does not match the requirements: ${description}.`);
    assert.equal((await authById(user.id, 'abcdef1')).status, 201, 'refused changes leave the password alone');
  });

  it('expires passwords after password_expires_days; an expired password can still be changed', async () => {
    const user = await createUser({ name: 'expiring', password: 'abcdef1' });
    assert.equal(user.password_expires_at, '2030-03-11T12:00:00.000000');
    const listed = await t.request('GET', `${V3}/users?password_expires_at=lt:2030-03-12T00:00:00Z`, { token: admin });
    assert.deepEqual(listed.json.users.map((u: { id: string }) => u.id).includes(user.id), true);
    const gt = await t.request('GET', `${V3}/users?password_expires_at=gt:2030-03-12T00:00:00Z`, { token: admin });
    assert.equal(gt.json.users.some((u: { id: string }) => u.id === user.id), false);
    const eq = await t.request('GET', `${V3}/users?password_expires_at=2030-03-11T12:00:00Z`, { token: admin });
    assert.ok(eq.json.users.some((u: { id: string }) => u.id === user.id));
    assert.ok(eq.json.users.every((u: { password_expires_at: string }) => u.password_expires_at === '2030-03-11T12:00:00.000000'));
    const neq = await t.request('GET', `${V3}/users?password_expires_at=neq:2030-03-11T12:00:00Z`, { token: admin });
    assert.equal(neq.json.users.some((u: { id: string }) => u.id === user.id), false);

    clock.advance(10 * DAY);
    admin = await adminLogin(t);
    const expired = await authById(user.id, 'abcdef1');
    assert.equal(expired.status, 401);
    assert.equal(expired.json.error.message, `The password is expired and needs to be changed for user: ${user.id}.`);
    assert.equal((await changeOwn(user.id, 'abcdef1', 'ghijkl2')).status, 204);
    clock.advance(1000);
    assert.equal((await authById(user.id, 'ghijkl2')).status, 201);

    const exempt = await createUser({ name: 'no-expiry', password: 'abcdef1', options: { ignore_password_expiry: true } });
    assert.equal(exempt.password_expires_at, null);
    clock.advance(30 * DAY);
    admin = await adminLogin(t);
    assert.equal((await authById(exempt.id, 'abcdef1')).status, 201);
  });

  it('enforces minimum_password_age between self-service changes only', async () => {
    const user = await createUser({ name: 'min-age', password: 'abcdef1' });
    // The admin-set password may be changed at once.
    assert.equal((await changeOwn(user.id, 'abcdef1', 'abcdef2')).status, 204);
    clock.advance(1000);
    const early = await changeOwn(user.id, 'abcdef2', 'abcdef3');
    assert.equal(early.status, 400);
    assert.equal(
      early.json.error.message,
      'You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for 1 day(s) before it can be changed. Please try again in 0 day(s) or contact your administrator to reset your password.',
    );
    assert.equal((await adminReset(user.id, 'abcdef4')).status, 200, 'admins are not bound by the minimum age');
    assert.equal((await changeOwn(user.id, 'abcdef4', 'abcdef5')).status, 204);
    clock.advance(DAY - 2000);
    admin = await adminLogin(t);
    assert.equal((await changeOwn(user.id, 'abcdef5', 'abcdef6')).status, 400);
    clock.advance(3000);
    assert.equal((await changeOwn(user.id, 'abcdef5', 'abcdef6')).status, 204);
  });

  it('refuses self-service changes for users with lock_password', async () => {
    const user = await createUser({ name: 'locked-pw', password: 'abcdef1', options: { lock_password: true } });
    const res = await changeOwn(user.id, 'abcdef1', 'abcdef9');
    assert.equal(res.status, 400);
    assert.match(res.json.error.message, /password policy disallowing password changes/);
    assert.equal((await adminReset(user.id, 'abcdef9')).status, 200);
  });
});

describe('identity: change_password_upon_first_use and account inactivity', () => {
  let t: TestCloud;
  let admin: string;
  const clock = new ManualClock(new Date('2030-05-01T08:00:00Z'));
  const { createUser, authById, changeOwn, adminReset } = helpers(() => ({ t, admin }));

  before(async () => {
    t = await startTestCloud({ clock, set: { 'identity.change_password_upon_first_use': true, 'identity.disable_user_account_days_inactive': 2 } });
    admin = await t.adminToken();
    const adminId = (await t.cloud.identity.service.users.findByName('admin', 'default'))!.id;
    const exempt = await t.request('PATCH', `${V3}/users/${adminId}`, { token: admin, body: { user: { options: { ignore_user_inactivity: true } } } });
    assert.equal(exempt.status, 200);
  });
  after(async () => {
    await t.close();
  });

  it('makes admin-set passwords expire at once until the user changes them', async () => {
    const user = await createUser({ name: 'first-use', password: 'given-pw' });
    assert.equal(user.password_expires_at, '2030-05-01T08:00:00.000000');
    const first = await authById(user.id, 'given-pw');
    assert.equal(first.status, 401);
    assert.equal(first.json.error.message, `The password is expired and needs to be changed for user: ${user.id}.`);
    assert.equal((await changeOwn(user.id, 'given-pw', 'chosen-pw')).status, 204);
    clock.advance(1000);
    assert.equal((await authById(user.id, 'chosen-pw')).status, 201);
    assert.equal((await t.request('GET', `${V3}/users/${user.id}`, { token: admin })).json.user.password_expires_at, null);
    assert.equal((await adminReset(user.id, 'reset-pw')).status, 200);
    assert.equal((await authById(user.id, 'reset-pw')).status, 401, 'an admin reset must be changed again');
    const exempt = await createUser({ name: 'first-use-exempt', password: 'given-pw', options: { ignore_change_password_upon_first_use: true } });
    assert.equal((await authById(exempt.id, 'given-pw')).status, 201);
  });

  it('disables accounts inactive for disable_user_account_days_inactive days', async () => {
    const user = await createUser({ name: 'sleepy', password: 'pw', options: { ignore_change_password_upon_first_use: true } });
    const exempt = await createUser({ name: 'insomniac', password: 'pw', options: { ignore_change_password_upon_first_use: true, ignore_user_inactivity: true } });
    assert.equal((await authById(user.id, 'pw')).status, 201);
    clock.advance(1 * DAY);
    assert.equal((await authById(user.id, 'pw')).status, 201, 'activity moves the window');
    clock.advance(2 * DAY);
    admin = await adminLogin(t);
    const show = await t.request('GET', `${V3}/users/${user.id}`, { token: admin });
    assert.equal(show.json.user.enabled, false);
    const disabled = await t.request('GET', `${V3}/users?enabled=false`, { token: admin });
    assert.ok(disabled.json.users.some((u: { id: string }) => u.id === user.id));
    assert.equal((await authById(user.id, 'pw')).status, 401);
    assert.equal((await authById(exempt.id, 'pw')).status, 201);
    const enable = await t.request('PATCH', `${V3}/users/${user.id}`, { token: admin, body: { user: { enabled: true } } });
    assert.equal(enable.json.user.enabled, true);
    assert.equal((await authById(user.id, 'pw')).status, 201);
  });
});
