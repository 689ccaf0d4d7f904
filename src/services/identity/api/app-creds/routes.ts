import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../../../common/auth/index.js';
import { badRequest, forbidden } from '../../../../common/errors.js';
import type { AppCred } from '../../managers/app-creds.js';
import { rolesInOrder, type RoleRef } from '../../managers/delegation.js';
import type { IdentityApi } from '../context.js';
import { AppCredCreateBody, type AppCredCreate } from './schemas.js';
import { renderAccessRule, renderAppCred } from './view.js';

type UserParams = { user_id: string };
type CredParams = { user_id: string; application_credential_id: string };
type RuleParams = { user_id: string; access_rule_id: string };

/** A single-valued query parameter; repeating it is a client error. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(`Invalid value for query parameter '${name}'.`);
  return value;
}

/** Trust-scoped tokens never manage application credentials: a credential would outlive the delegation. */
function refuseTrustToken(ctx: AuthContext): void {
  if (ctx.trustId) throw forbidden('Cannot manage application credentials with a token issued via delegation.');
}

/** /v3/users/{user_id}/application_credentials and /v3/users/{user_id}/access_rules. */
export async function appCredRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;

  const refuseRestricted = async (ctx: AuthContext): Promise<void> => {
    if (ctx.appCredId && !(await service.appCreds.isUnrestricted(ctx.appCredId))) {
      throw forbidden("You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.");
    }
  };
  const render = async (request: FastifyRequest, cred: AppCred, secret?: string) => renderAppCred(api.v3Url(request), cred, await rolesInOrder(service, cred.roleIds), secret);
  const listLinks = (request: FastifyRequest, path: string) => ({ self: `${api.v3Url(request)}${path}`, previous: null, next: null });
  /** Policy is checked against the credential's owner, never the user named in the path (Keystone's _update_request_user_id_attribute). */
  const credTarget = async (params: CredParams) => {
    const owner = (await service.appCreds.ownerOf(params.application_credential_id)) ?? params.user_id;
    return { user_id: owner, target: { user: { id: owner } } };
  };

  app.get<{ Params: UserParams }>('/v3/users/:user_id/application_credentials', async (request) => {
    const userId = request.params.user_id;
    const name = queryParam(request, 'name');
    const ctx = await api.guard(request, 'identity:list_application_credentials', { user_id: userId, target: { user: { id: userId } } });
    refuseTrustToken(ctx);
    const creds = await service.appCreds.list(userId, name !== undefined ? { name } : {});
    const rendered = [];
    for (const cred of creds) rendered.push(await render(request, cred));
    return { application_credentials: rendered, links: listLinks(request, `/users/${userId}/application_credentials`) };
  });

  app.post<{ Params: UserParams }>('/v3/users/:user_id/application_credentials', { schema: { body: AppCredCreateBody } }, async (request, reply) => {
    const userId = request.params.user_id;
    const body = (request.body as { application_credential: AppCredCreate }).application_credential;
    const ctx = await api.guard(request, 'identity:create_application_credential', { user_id: userId, target: { user: { id: userId } } });
    refuseTrustToken(ctx);
    await refuseRestricted(ctx);
    if (ctx.user.id !== userId) throw forbidden('You are not authorized to perform the requested action: Cannot create an application credential for another user.');
    if (!ctx.project) throw badRequest('Invalid application credential: an application credential can only be created with a project-scoped token.');
    const { appCred, secret } = await service.appCreds.create(
      userId,
      { projectId: ctx.project.id, tokenRoleIds: ctx.roles.map((r) => r.id) },
      {
        name: body.name,
        description: body.description,
        secret: body.secret,
        expiresAt: body.expires_at,
        roles: body.roles as RoleRef[] | undefined,
        unrestricted: body.unrestricted,
        accessRules: body.access_rules,
      },
    );
    reply.code(201);
    return { application_credential: await render(request, appCred, secret) };
  });

  app.get<{ Params: CredParams }>('/v3/users/:user_id/application_credentials/:application_credential_id', async (request) => {
    const ctx = await api.guard(request, 'identity:get_application_credential', await credTarget(request.params));
    refuseTrustToken(ctx);
    return { application_credential: await render(request, await service.appCreds.get(request.params.application_credential_id)) };
  });

  app.delete<{ Params: CredParams }>('/v3/users/:user_id/application_credentials/:application_credential_id', async (request, reply) => {
    const ctx = await api.guard(request, 'identity:delete_application_credential', await credTarget(request.params));
    refuseTrustToken(ctx);
    await refuseRestricted(ctx);
    await service.appCreds.delete(request.params.application_credential_id);
    reply.code(204).send();
  });

  app.get<{ Params: UserParams }>('/v3/users/:user_id/access_rules', async (request) => {
    const userId = request.params.user_id;
    const filter = { service: queryParam(request, 'service'), path: queryParam(request, 'path'), method: queryParam(request, 'method') };
    const ctx = await api.guard(request, 'identity:list_access_rules', { user_id: userId, target: { user: { id: userId } } });
    refuseTrustToken(ctx);
    const rules = await service.appCreds.listAccessRules(userId, filter);
    const v3 = api.v3Url(request);
    return { access_rules: rules.map((r) => renderAccessRule(v3, userId, r)), links: listLinks(request, `/users/${userId}/access_rules`) };
  });

  app.get<{ Params: RuleParams }>('/v3/users/:user_id/access_rules/:access_rule_id', async (request) => {
    const userId = request.params.user_id;
    const ctx = await api.guard(request, 'identity:get_access_rule', { user_id: userId, target: { user: { id: userId } } });
    refuseTrustToken(ctx);
    const rule = await service.appCreds.getAccessRule(userId, request.params.access_rule_id);
    return { access_rule: renderAccessRule(api.v3Url(request), userId, rule) };
  });

  app.delete<{ Params: RuleParams }>('/v3/users/:user_id/access_rules/:access_rule_id', async (request, reply) => {
    const userId = request.params.user_id;
    const ctx = await api.guard(request, 'identity:delete_access_rule', { user_id: userId, target: { user: { id: userId } } });
    refuseTrustToken(ctx);
    await service.appCreds.deleteAccessRule(userId, request.params.access_rule_id);
    reply.code(204).send();
  });
}
