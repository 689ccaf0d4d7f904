import { unauthorized } from '../../../common/errors.js';
import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';
import type { AppCredAuthenticator, AuthRequest } from './auth.js';
import type { AppCredInfo } from './tokens.js';

/** Application credentials and access rules; authenticates the application_credential method. */
export class AppCredManager implements AppCredAuthenticator {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    void this.core;
    void this.svc;
  }

  async authenticate(ref: NonNullable<AuthRequest['identity']['application_credential']>): Promise<{ userId: string; projectId: string; appCredId: string }> {
    void ref;
    throw unauthorized();
  }

  /** For token validation: the credential's facts and roles, or null when gone or expired. */
  async forToken(appCredId: string, now: Date): Promise<{ info: AppCredInfo; userId: string; projectId: string; roleIds: string[] } | null> {
    void appCredId;
    void now;
    return null;
  }
}
