import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** Smaller Keystone resources: policies (/v3/policies), OS-OAUTH1 consumers and endpoint groups. */
export class ExtrasManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }
}
