import { unauthorized } from '../../../common/errors.js';
import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';
import type { TrustScoper } from './auth.js';
import type { TrustInfo } from './tokens.js';

/** OS-TRUST: trusts, their roles, redelegation, and trust-scoped authentication. */
export class TrustManager implements TrustScoper {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }

  async scopeTo(trustId: string, callerUserId: string): Promise<{ projectId: string | null; impersonation: boolean; trustorUserId: string }> {
    void trustId;
    void callerUserId;
    throw unauthorized();
  }

  /** For token validation: the trust's facts and delegated role ids, or null when gone, expired or used up. */
  async forToken(trustId: string, now: Date): Promise<{ info: TrustInfo; projectId: string | null; roleIds: string[] } | null> {
    void trustId;
    void now;
    return null;
  }
}
