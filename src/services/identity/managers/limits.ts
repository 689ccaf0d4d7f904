import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** Unified limits: registered limits and project/domain limits. */
export class LimitManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }
}
