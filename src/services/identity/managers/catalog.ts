import { hexId } from '../../../common/ids.js';
import { parseJson } from '../store/tables.js';
import type { CatalogService } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';

/** Regions, services and endpoints, and the catalog a token carries. */
export class CatalogManager {
  constructor(private readonly core: IdentityCore) {}

  async ensureRegion(id: string, description = ''): Promise<void> {
    await this.core.db
      .insertInto('identity_regions')
      .values({ id, description, parent_region_id: null, extra: '{}' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async createService(type: string, name: string, description = '', enabled = true): Promise<string> {
    const id = hexId();
    await this.core.db
      .insertInto('identity_services')
      .values({ id, type, enabled: enabled ? 1 : 0, extra: JSON.stringify({ name, description }) })
      .execute();
    notify(this.core, 'service', 'created', id);
    return id;
  }

  async createEndpoint(serviceId: string, iface: string, url: string, regionId: string | null, enabled = true): Promise<string> {
    const id = hexId();
    await this.core.db
      .insertInto('identity_endpoints')
      .values({ id, service_id: serviceId, region_id: regionId, interface: iface, url, enabled: enabled ? 1 : 0, extra: '{}' })
      .execute();
    notify(this.core, 'endpoint', 'created', id);
    return id;
  }

  /** The catalog as a token shows it: enabled services with enabled endpoints, $(project_id)s filled in. */
  async catalogFor(projectId: string | null): Promise<CatalogService[]> {
    const services = await this.core.db.selectFrom('identity_services').selectAll().where('enabled', '=', 1).execute();
    const endpoints = await this.core.db.selectFrom('identity_endpoints').selectAll().where('enabled', '=', 1).execute();
    const out: CatalogService[] = [];
    for (const service of services) {
      const extra = parseJson(service.extra);
      const eps = endpoints
        .filter((e) => e.service_id === service.id)
        .flatMap((e) => {
          const url = substitute(e.url, projectId);
          return url === null ? [] : [{ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url }];
        });
      out.push({ id: service.id, type: service.type, name: typeof extra.name === 'string' ? extra.name : '', endpoints: eps });
    }
    return out;
  }
}

/** Keystone drops endpoints whose URL needs a project id the token doesn't have. */
function substitute(url: string, projectId: string | null): string | null {
  if (!url.includes('$(')) return url;
  if (/\$\((project_id|tenant_id)\)s/.test(url) && !projectId) return null;
  return url.replace(/\$\((project_id|tenant_id)\)s/g, projectId ?? '');
}
