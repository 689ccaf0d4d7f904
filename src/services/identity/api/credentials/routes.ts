import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../../../common/auth/index.js';
import { badRequest, CloudError } from '../../../../common/errors.js';
import type { IdentityApi } from '../context.js';
import { ec2CredentialId, isDelegated, type Credential, type Ec2Request } from '../../managers/credentials.js';
import { renderToken } from '../auth/view.js';
import { applyFilters, collection, extraOf, memberOf, paramsOf, queryOf, requireMatchingId } from '../catalog/common.js';
import { CredentialCreateBody, CredentialUpdateBody } from './schemas.js';
import { renderCredential, renderEc2Credential } from './view.js';

const FIELDS = ['user_id', 'project_id', 'type', 'blob'] as const;

/** What identity:*_credential rules see as target.credential. */
const credentialTarget = (c: Pick<Credential, 'id' | 'userId' | 'projectId' | 'type'>) => ({
  target: { credential: { id: c.id, user_id: c.userId, project_id: c.projectId, type: c.type } },
});

function refuseDelegated(ctx: AuthContext): void {
  if (isDelegated(ctx)) throw new CloudError('forbidden', 'You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.');
}

/** /v3/credentials, the OS-EC2 compatibility API, and /v3/ec2tokens + /v3/s3tokens. */
export async function credentialRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const creds = service.credentials;
  const v3 = (request: FastifyRequest) => api.v3Url(request);

  const allowed = (request: FastifyRequest, rule: string, target: Record<string, unknown>): boolean => {
    try {
      api.authorize(request, rule, target);
      return true;
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'forbidden') return false;
      throw err;
    }
  };

  // ---- /v3/credentials ----

  app.get('/v3/credentials', async (request) => {
    const ctx = await api.authenticate(request);
    api.authorize(request, 'identity:list_credentials', ctx.system ? {} : { target: { credential: { user_id: ctx.user.id } } });
    const query = queryOf(request);
    const listed = await creds.list({ userId: query.user_id, type: query.type });
    // Each credential is checked again: a filter must not reveal other users' secrets.
    const visible = isDelegated(ctx) ? [] : listed.filter((c) => allowed(request, 'identity:get_credential', credentialTarget(c)));
    const filtered = applyFilters(visible, query, { user_id: (c) => c.userId, type: (c) => c.type });
    return collection(api, request, 'credentials', '/credentials', filtered.map((c) => renderCredential(v3(request), c)));
  });

  /** Loads the credential for the policy target; a missing one is a 404 only for callers the rule lets through. */
  const guarded = async (request: FastifyRequest, rule: string): Promise<Credential> => {
    const ctx = await api.authenticate(request);
    const id = paramsOf(request).credential_id ?? '';
    const found = await creds.find(id);
    api.authorize(request, rule, found ? credentialTarget(found) : {});
    const credential = found ?? (await creds.get(id));
    refuseDelegated(ctx);
    return credential;
  };

  app.get('/v3/credentials/:credential_id', async (request) => {
    const credential = await guarded(request, 'identity:get_credential');
    return { credential: renderCredential(v3(request), credential) };
  });

  app.post('/v3/credentials', { schema: { body: CredentialCreateBody } }, async (request, reply) => {
    const ctx = await api.authenticate(request);
    const body = memberOf(request.body, 'credential');
    api.authorize(request, 'identity:create_credential', { target: { credential: body } });
    refuseDelegated(ctx);
    const created = await creds.create({
      userId: body.user_id as string,
      projectId: typeof body.project_id === 'string' ? body.project_id : null,
      type: body.type as string,
      blob: body.blob as string,
      extra: extraOf(body, FIELDS),
    });
    reply.code(201);
    return { credential: renderCredential(v3(request), created) };
  });

  app.patch('/v3/credentials/:credential_id', { schema: { body: CredentialUpdateBody } }, async (request) => {
    const current = await guarded(request, 'identity:update_credential');
    const body = memberOf(request.body, 'credential');
    requireMatchingId(body, current.id);
    const patch = {
      userId: typeof body.user_id === 'string' ? body.user_id : undefined,
      projectId: typeof body.project_id === 'string' ? body.project_id : undefined,
      type: typeof body.type === 'string' ? body.type : undefined,
      blob: typeof body.blob === 'string' ? body.blob : undefined,
      extra: extraOf(body, FIELDS),
    };
    // The result must be the caller's to own as well: no handing a credential to someone else.
    api.authorize(request, 'identity:update_credential', credentialTarget({
      id: current.id,
      userId: patch.userId ?? current.userId,
      projectId: patch.projectId ?? current.projectId,
      type: patch.type ?? current.type,
    }));
    const updated = await creds.update(current.id, patch);
    return { credential: renderCredential(v3(request), updated) };
  });

  app.delete('/v3/credentials/:credential_id', async (request, reply) => {
    const credential = await guarded(request, 'identity:delete_credential');
    await creds.delete(credential.id);
    reply.code(204).send();
  });

  // ---- OS-EC2 (under /v3/users/{user_id}) ----

  const ec2Base = '/v3/users/:user_id/credentials/OS-EC2';

  app.get(ec2Base, async (request) => {
    const ctx = await api.authenticate(request);
    const userId = paramsOf(request).user_id ?? '';
    api.authorize(request, 'identity:ec2_list_credentials', { user_id: userId });
    refuseDelegated(ctx);
    const list = await creds.listEc2(userId);
    return collection(api, request, 'credentials', `/users/${userId}/credentials/OS-EC2`, list.map((c) => renderEc2Credential(v3(request), c)));
  });

  app.post(ec2Base, async (request, reply) => {
    const ctx = await api.authenticate(request);
    const userId = paramsOf(request).user_id ?? '';
    api.authorize(request, 'identity:ec2_create_credential', { user_id: userId, target: { credential: { user_id: userId } } });
    const body = (request.body ?? {}) as Record<string, unknown>;
    const tenantId = typeof body.tenant_id === 'string' ? body.tenant_id : null;
    refuseDelegated(ctx);
    const created = await creds.createEc2(userId, tenantId);
    reply.code(201);
    return { credential: renderEc2Credential(v3(request), created) };
  });

  const ec2Guarded = async (request: FastifyRequest, rule: string) => {
    const ctx = await api.authenticate(request);
    const { user_id: userId = '', credential_id: access = '' } = paramsOf(request);
    // Unlike /v3/credentials, Keystone looks the credential up before the policy check here: 404 first.
    const found = await creds.get(ec2CredentialId(access));
    api.authorize(request, rule, { user_id: userId, ...credentialTarget(found) });
    refuseDelegated(ctx);
    return { userId, access };
  };

  app.get(`${ec2Base}/:credential_id`, async (request) => {
    const { userId, access } = await ec2Guarded(request, 'identity:ec2_get_credential');
    return { credential: renderEc2Credential(v3(request), await creds.getEc2(userId, access)) };
  });

  app.delete(`${ec2Base}/:credential_id`, async (request, reply) => {
    const { userId, access } = await ec2Guarded(request, 'identity:ec2_delete_credential');
    await creds.deleteEc2(userId, access);
    reply.code(204).send();
  });

  // ---- token exchange for signed EC2 / S3 requests ----

  /**
   * Keystone's body hack: `credentials`, `credential` or `ec2Credentials`. As in Keystone
   * after OSSA-2025-002, only services and admins may exchange a signature for a token:
   * otherwise anyone holding one signed request could turn it into a full token.
   */
  const signedCredentials = async (request: FastifyRequest, rule: string): Promise<Record<string, unknown>> => {
    await api.guard(request, rule);
    const body = request.body;
    if (typeof body !== 'object' || body === null || Object.keys(body).length === 0) throw badRequest('request must include a request body');
    const record = body as Record<string, unknown>;
    for (const key of ['credentials', 'credential', 'ec2Credentials']) {
      const value = record[key];
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length) return value as Record<string, unknown>;
    }
    return {};
  };

  const issueFor = async (userId: string, projectId: string) => {
    const data = await service.tokens.issue({ userId, methods: ['ec2credential'], scope: { kind: 'project', projectId } });
    return { data, body: { token: renderToken(data, await service.catalog.catalogFor(projectId, userId)) } };
  };

  app.post('/v3/ec2tokens', async (request, reply) => {
    const credentials = await signedCredentials(request, 'identity:ec2tokens_validate');
    const identity = await creds.verifyEc2Signature(credentials as unknown as Ec2Request);
    const { data, body } = await issueFor(identity.userId, identity.projectId);
    reply.code(200).header('x-subject-token', data.token);
    return body;
  });

  app.post('/v3/s3tokens', async (request, reply) => {
    const credentials = await signedCredentials(request, 'identity:s3tokens_validate');
    const identity = await creds.verifyS3Signature({
      access: credentials.access as string,
      token: credentials.token as string,
      signature: credentials.signature as string,
    });
    const { body } = await issueFor(identity.userId, identity.projectId);
    reply.code(200);
    return body;
  });
}
