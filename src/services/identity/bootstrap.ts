import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { randomSecret } from '../../common/ids.js';
import type { CatalogRegistration } from '../../common/service.js';
import { DEFAULT_DOMAIN_ID } from './store/tables.js';
import type { IdentityService } from './service.js';

export interface BootstrapResult {
  adminPassword: string;
  demoPassword: string;
  /** True when this start created the deployment (first start on the data dir). */
  created: boolean;
}

/**
 * First start: Default domain, RegionOne, the four standard roles with their
 * implications, admin/demo/service projects and users, and a catalog entry per
 * service. Later starts only add catalog entries for services that are new.
 */
export async function bootstrapIdentity(service: IdentityService, publicUrl: string, catalog: CatalogRegistration[]): Promise<BootstrapResult> {
  const { config } = service.core;
  const dataDir = config.server.data_dir;
  const adminPassword = config.identity.admin_password ?? readOrCreateSecret(join(dataDir, 'admin-password'));
  const demoPassword = config.identity.demo_password ?? adminPassword;
  const existing = await service.resource.findProjectRow(DEFAULT_DOMAIN_ID);
  const created = !existing;

  if (created) {
    await service.resource.createProject({ id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain', domainId: DEFAULT_DOMAIN_ID, isDomain: true });
    const reader = await service.roles.createRole({ name: 'reader' });
    const member = await service.roles.createRole({ name: 'member' });
    const admin = await service.roles.createRole({ name: 'admin' });
    await service.roles.createRole({ name: 'service' });
    // Swift's keystoneauth reseller role exists from the start, as DevStack creates it with Swift
    await service.roles.createRole({ name: config.object_store.reseller_admin_role });
    await service.roles.addImplied(admin.id, member.id);
    await service.roles.addImplied(member.id, reader.id);

    const adminProject = await service.resource.createProject({ name: 'admin', description: 'Bootstrap project for initializing the cloud.', domainId: DEFAULT_DOMAIN_ID });
    const demoProject = await service.resource.createProject({ name: 'demo', description: 'Demo project', domainId: DEFAULT_DOMAIN_ID });
    await service.resource.createProject({ name: 'service', description: 'Project for service users', domainId: DEFAULT_DOMAIN_ID });
    // Two slow password hashes: run them side by side on the thread pool to keep first start short.
    const [adminUser, demoUser] = await Promise.all([
      service.users.createUser({ name: 'admin', domainId: DEFAULT_DOMAIN_ID, password: adminPassword, defaultProjectId: adminProject.id }),
      service.users.createUser({ name: 'demo', domainId: DEFAULT_DOMAIN_ID, password: demoPassword, defaultProjectId: demoProject.id }),
    ]);
    await service.assignments.grant('UserProject', adminUser.id, adminProject.id, admin.id);
    await service.assignments.grant('UserSystem', adminUser.id, 'system', admin.id);
    await service.assignments.grant('UserDomain', adminUser.id, DEFAULT_DOMAIN_ID, admin.id);
    await service.assignments.grant('UserProject', demoUser.id, demoProject.id, member.id);
    await service.catalog.ensureRegion(config.server.region);
    await rememberVerifiedPassword(service, dataDir, adminUser.id, adminPassword);
  } else if (config.identity.admin_password) {
    // An explicit admin password on a later start resets it, as `keystone-manage bootstrap` does.
    const admin = await service.users.findByName('admin', DEFAULT_DOMAIN_ID);
    if (admin && !(await knownToMatch(service, dataDir, admin.id, adminPassword))) {
      if (!(await service.users.verifyPassword(admin.id, adminPassword))) await service.users.setPasswordForBootstrap(admin.id, adminPassword);
      await rememberVerifiedPassword(service, dataDir, admin.id, adminPassword);
    }
  }

  const services = await service.core.db.selectFrom('identity_services').select(['id', 'type']).execute();
  for (const entry of catalog) {
    if (services.some((s) => s.type === entry.type)) continue;
    const id = await service.catalog.createService(entry.type, entry.name, entry.description ?? '');
    for (const iface of ['public', 'internal', 'admin']) {
      await service.catalog.createEndpoint(id, iface, `${publicUrl}${entry.path}`, config.server.region);
    }
  }
  return { adminPassword, demoPassword, created };
}

/**
 * Checking an explicit --admin-password against its bcrypt hash costs ~0.2 s of every start.
 * This file remembers which stored hash the configured password was last verified against, as a
 * salted SHA-256; it reveals nothing new, since clouds.yaml beside it holds the password itself.
 */
const VERIFIED_MARKER = 'admin-password.verified';

interface VerifiedMarker {
  passwordHash: string;
  salt: string;
  fingerprint: string;
}

function fingerprint(password: string, salt: string): string {
  return createHash('sha256').update(salt).update('\0').update(password).digest('hex');
}

async function knownToMatch(service: IdentityService, dataDir: string, userId: string, password: string): Promise<boolean> {
  let marker: VerifiedMarker;
  try {
    marker = JSON.parse(readFileSync(join(dataDir, VERIFIED_MARKER), 'utf8')) as VerifiedMarker;
  } catch {
    return false;
  }
  const current = await service.users.currentPassword(userId);
  if (!current || current.password_hash !== marker.passwordHash) return false;
  const expected = Buffer.from(marker.fingerprint, 'hex');
  const actual = Buffer.from(fingerprint(password, marker.salt), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return false;
  // Known to match without hashing: the first login can skip the slow check too.
  service.core.hasher.remember(password, current.password_hash);
  return true;
}

async function rememberVerifiedPassword(service: IdentityService, dataDir: string, userId: string, password: string): Promise<void> {
  const current = await service.users.currentPassword(userId);
  if (!current) return;
  const salt = randomBytes(16).toString('hex');
  const marker: VerifiedMarker = { passwordHash: current.password_hash, salt, fingerprint: fingerprint(password, salt) };
  writeFileSync(join(dataDir, VERIFIED_MARKER), `${JSON.stringify(marker)}\n`, { mode: 0o600 });
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomSecret(18);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** clouds.yaml with the three standard entries, written into the data dir. */
export function writeCloudsYaml(dataDir: string, authUrl: string, region: string, adminPassword: string, demoPassword: string): string {
  const base = { auth_url: authUrl, user_domain_name: 'Default' };
  const doc = {
    clouds: {
      nubes: { auth: { ...base, username: 'admin', password: adminPassword, project_name: 'admin', project_domain_name: 'Default' }, region_name: region, identity_api_version: 3, interface: 'public' },
      'nubes-demo': { auth: { ...base, username: 'demo', password: demoPassword, project_name: 'demo', project_domain_name: 'Default' }, region_name: region, identity_api_version: 3, interface: 'public' },
      'nubes-system': { auth: { ...base, username: 'admin', password: adminPassword, system_scope: 'all' }, region_name: region, identity_api_version: 3, interface: 'public' },
    },
  };
  const path = join(dataDir, 'clouds.yaml');
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}
