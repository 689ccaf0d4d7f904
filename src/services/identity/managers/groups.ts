import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** Groups and membership. */
export class GroupManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }
}
