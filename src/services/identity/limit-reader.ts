import type { LimitReader } from '../../common/auth/index.js';
import type { IdentityService } from './service.js';

/**
 * oslo.limit's lookups done in-process: the service is found by its catalog type, its region is
 * the region of its endpoints; a limit for exactly that region wins over a region-less one.
 */
export class UnifiedLimitReader implements LimitReader {
  constructor(private readonly identity: IdentityService) {}

  async projectLimits(serviceType: string, projectId: string, resourceNames: readonly string[]): Promise<Record<string, number>> {
    const [service] = await this.identity.catalog.listServices({ type: serviceType });
    if (!service) return {};
    const endpoints = await this.identity.catalog.listEndpoints({ serviceId: service.id });
    const region = endpoints.find((e) => e.regionId)?.regionId ?? null;
    const rank = (r: { regionId: string | null }) => (r.regionId === region ? 0 : r.regionId === null ? 1 : 2);
    const best = <T extends { regionId: string | null; resourceName: string }>(rows: T[], name: string): T | undefined =>
      rows.filter((r) => r.resourceName === name && rank(r) < 2).sort((a, b) => rank(a) - rank(b))[0];

    const registered = await this.identity.limits.listRegisteredLimits({ serviceId: service.id });
    const own = await this.identity.limits.listLimits({ serviceId: service.id, projectId });
    const result: Record<string, number> = {};
    for (const name of resourceNames) {
      const limit = best(own, name)?.resourceLimit ?? best(registered, name)?.defaultLimit;
      if (limit !== undefined) result[name] = limit;
    }
    return result;
  }
}
