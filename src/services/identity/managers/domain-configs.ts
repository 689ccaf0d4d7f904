import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** Domain-specific configuration (/v3/domains/{id}/config). */
export class DomainConfigManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }
}
