import type { FastifyRequest } from 'fastify';
import type { PolicyEnforcer } from '../../../common/policy/index.js';
import { policyCredentials } from '../../../common/auth/index.js';
import { authenticate } from '../../../common/http/auth.js';
import type { TokenValidator } from '../../../common/auth/index.js';
import { forbidden } from '../../../common/errors.js';
import { callerOf, type Caller } from '../caller.js';
import type { ImageService } from '../service.js';

/** What every image route module gets: the service and a guard (token, then policy rule). */
export class ImageApi {
  constructor(
    readonly service: ImageService,
    private readonly tokens: TokenValidator,
    private readonly policy: PolicyEnforcer,
  ) {}

  async guard(request: FastifyRequest, rule: string, target: Record<string, unknown> = {}): Promise<Caller> {
    const ctx = await authenticate(request, this.tokens);
    const creds = policyCredentials(ctx);
    if (!this.policy.enforce(`image:${rule}`, creds, target)) throw forbidden(`You are not authorized to complete ${rule} action.`);
    const caller = callerOf(ctx);
    caller.isAdmin = this.policy.enforce('image:context_is_admin', creds, {});
    return caller;
  }
}
