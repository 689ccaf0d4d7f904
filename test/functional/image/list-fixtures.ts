import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.js';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from '../../helpers/cloud.js';

/** An image as GET /v2/images/{id} shows it, loosely typed for assertions. */
export type Shown = Record<string, any> & { id: string; name: string | null; size: number | null; created_at: string; updated_at: string };

export interface ListFixture {
  t: TestCloud;
  clock: ManualClock;
  admin: string;
  demo: string;
  adminProject: string;
  demoProject: string;
  /** The fixture images by role, re-read after every change. */
  images: Record<string, Shown>;
  /** Every image of a list query, following `next` links page by page. */
  all(query: string, token: string): Promise<Shown[]>;
  /** Names (or ids when unnamed) of a list query, as a sorted set. */
  names(query: string, token: string): Promise<string[]>;
}

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
export const T0 = new Date('2030-01-01T00:00:00Z');

/**
 * A cloud with a dozen images covering every filterable attribute: visibilities, member
 * statuses, tags, properties, sizes, NULL names, duplicate names, a hidden image, and creation
 * times ten seconds apart (one at half a second) on a manual clock.
 * Pages are small (default 4, max 6) so that every list in the tests pages.
 */
export async function buildListFixture(): Promise<ListFixture> {
  const clock = new ManualClock(T0);
  const t = await startTestCloud({ clock, set: { 'image.limit_param_default': 4, 'image.api_limit_max': 6, 'image.user_storage_quota': 0 } });
  const admin = await t.adminToken();
  const login = await t.login({ name: 'demo', password: ADMIN_PASSWORD }, { project: { name: 'demo', domain: { id: 'default' } } });
  assert.equal(login.status, 201, login.text);
  const demo = login.token;
  const demoProject: string = login.json.token.project.id;
  const adminProject: string = (await t.request('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin } })).json.token.project.id;

  const step = (ms = 10_000) => clock.advance(ms);
  const create = async (token: string, body: Record<string, unknown>): Promise<string> => {
    step();
    const res = await t.request('POST', '/image/v2/images', { token, body });
    assert.equal(res.status, 201, res.text);
    return res.json.id as string;
  };
  const upload = async (token: string, id: string, bytes: number) => {
    step();
    const res = await t.cloud.app.inject({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(bytes, 1) });
    assert.equal(res.statusCode, 204, res.body);
  };
  const share = async (id: string, status: 'pending' | 'accepted' | 'rejected') => {
    step();
    assert.equal((await t.request('POST', `/image/v2/images/${id}/members`, { token: admin, body: { member: demoProject } })).status, 200);
    if (status !== 'pending') assert.equal((await t.request('PUT', `/image/v2/images/${id}/members/${demoProject}`, { token: demo, body: { status } })).status, 200);
  };

  const ids: Record<string, string> = {};
  ids.pubAlpha = await create(admin, { name: 'alpha', disk_format: 'raw', container_format: 'bare', visibility: 'public', tags: ['x86', 'fast'], os_distro: 'ubuntu', min_ram: 512, 'com.example:key.x': 'v"1' });
  ids.privBeta = await create(admin, { name: 'beta', disk_format: 'qcow2', container_format: 'bare', visibility: 'private', tags: ['x86'], os_distro: 'debian' });
  await upload(admin, ids.privBeta, 100);
  ids.commGamma = await create(admin, { name: 'gamma', disk_format: 'iso', container_format: 'ovf', visibility: 'community' });
  step(500); // created at hh:mm:ss.5: filters compare whole seconds, as Glance's timestamps have
  ids.sharedPending = await create(admin, { disk_format: 'raw' });
  step(500);
  ids.sharedAccepted = await create(admin, { name: 'delta', disk_format: 'vmdk', container_format: 'bare' });
  ids.sharedRejected = await create(admin, { name: 'epsilon' });
  ids.hiddenZeta = await create(admin, { name: 'zeta', visibility: 'public', os_hidden: true });
  ids.demoOwn = await create(demo, { name: 'demo-own', disk_format: 'qcow2', container_format: 'bare', visibility: 'private' });
  await upload(demo, ids.demoOwn, 300);
  ids.demoComm = await create(demo, { name: 'demo-comm', visibility: 'community' });
  ids.pubAlpha2 = await create(admin, { name: 'alpha', visibility: 'public', disk_format: 'raw', container_format: 'bare' });
  await upload(admin, ids.pubAlpha2, 200);
  step();
  const prot = await t.request('PATCH', `/image/v2/images/${ids.pubAlpha2}`, { token: admin, rawBody: JSON.stringify([{ op: 'replace', path: '/protected', value: true }]), headers: PATCH });
  assert.equal(prot.status, 200, prot.text);
  ids.commaName = await create(admin, { name: 'a,b', visibility: 'private' });
  ids.colonName = await create(admin, { name: 'ns:thing', visibility: 'private' });
  await share(ids.sharedPending, 'pending');
  await share(ids.sharedAccepted, 'accepted');
  await share(ids.sharedRejected, 'rejected');
  step();

  const images: Record<string, Shown> = {};
  for (const [role, id] of Object.entries(ids)) {
    const res = await t.request('GET', `/image/v2/images/${id}`, { token: admin });
    assert.equal(res.status, 200, res.text);
    images[role] = res.json as Shown;
  }

  const all = async (query: string, token: string): Promise<Shown[]> => {
    const out: Shown[] = [];
    let path: string | undefined = `/v2/images${query ? `?${query}` : ''}`;
    for (let pages = 0; path; pages++) {
      assert.ok(pages < 50, `paging of ${query} does not end`);
      const res = await t.request('GET', `/image${path}`, { token });
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      out.push(...(res.json.images as Shown[]));
      path = res.json.next as string | undefined;
    }
    assert.equal(new Set(out.map((i) => i.id)).size, out.length, `${query}: an image appeared on two pages`);
    return out;
  };
  const names = async (query: string, token: string) => (await all(query, token)).map((i) => i.name ?? i.id).sort();
  return { t, clock, admin, demo, adminProject, demoProject, images, all, names };
}
