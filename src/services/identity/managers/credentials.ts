import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** Credentials (/v3/credentials) including EC2 credentials and ec2tokens signature checks. */
export class CredentialManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }
}
