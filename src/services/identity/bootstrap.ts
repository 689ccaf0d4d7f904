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
  } else if (config.identity.admin_password) {
    // An explicit admin password on a later start resets it, as `keystone-manage bootstrap` does.
    const admin = await service.users.findByName('admin', DEFAULT_DOMAIN_ID);
    if (admin && !(await service.users.verifyPassword(admin.id, adminPassword))) await service.users.setPasswordForBootstrap(admin.id, adminPassword);
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
