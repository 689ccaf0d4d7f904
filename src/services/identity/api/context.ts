import type { FastifyRequest } from 'fastify';
import type { Config } from '../../../common/config/index.js';
import type { PolicyEnforcer, PolicyTarget } from '../../../common/policy/index.js';
import { policyCredentials } from '../../../common/auth/index.js';
import { CloudError, forbidden } from '../../../common/errors.js';
import { baseUrl } from '../../../common/http/url.js';
import { authenticate } from '../../../common/http/auth.js';
import type { AuthContext } from '../../../common/auth/index.js';
import type { IdentityService } from '../service.js';
import { renderDomain } from './domains/view.js';
import { renderProject } from './projects/view.js';

/** What every identity route module gets: the domain service, policy and URL helpers. */
export class IdentityApi {
  readonly views = {
    project: (request: FastifyRequest, project: Parameters<typeof renderProject>[1]) => renderProject(this.v3Url(request), project),
    domain: (request: FastifyRequest, domain: Parameters<typeof renderDomain>[1]) => renderDomain(this.v3Url(request), domain),
  };

  constructor(
    readonly service: IdentityService,
    readonly config: Config,
    private readonly policy: PolicyEnforcer,
  ) {}

  /** http://host:port/identity/v3 as the client should see it. */
  v3Url(request: FastifyRequest): string {
    return `${baseUrl(request, this.config.server.public_url)}/identity/v3`;
  }

  /** Validates the caller's token (401) and returns its context. */
  authenticate(request: FastifyRequest): Promise<AuthContext> {
    return authenticate(request, this.service.tokens);
  }

  /** Enforces an identity:* rule for an authenticated request; 403 with Keystone's message when denied. */
  authorize(request: FastifyRequest, rule: string, target: PolicyTarget = {}): void {
    const creds = policyCredentials(request.auth);
    // Keystone's rules reference token.* facts as well as the caller's ids.
    const enriched = { ...creds, 'token.user_id': request.auth?.user.id, 'token.domain.id': request.auth?.domain?.id, 'token.project.domain.id': request.auth?.project?.domain.id };
    if (!this.policy.enforce(rule, enriched, target)) {
      throw new CloudError('forbidden', `You are not authorized to perform the requested action: ${rule}.`);
    }
  }

  /** Authenticate + authorize in one step, the common case of every protected route. */
  async guard(request: FastifyRequest, rule: string, target: PolicyTarget = {}): Promise<AuthContext> {
    const ctx = await this.authenticate(request);
    this.authorize(request, rule, target);
    return ctx;
  }

  forbiddenUnscoped(): CloudError {
    return forbidden('The service catalog is empty.');
  }
}
