import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../../../common/auth/index.js';
import { forbidden, notFound } from '../../../../common/errors.js';
import type { Trust } from '../../managers/trusts.js';
import { rolesInOrder, type RoleRef } from '../../managers/delegation.js';
import type { IdentityApi } from '../context.js';
import { queryParam } from '../app-creds/routes.js';
import { TRUST_KEYS, TrustCreateBody, type TrustCreate } from './schemas.js';
import { renderTrust, renderTrustRole } from './view.js';

type TrustParams = { trust_id: string };
type TrustRoleParams = { trust_id: string; role_id: string };

/**
 * Tokens from application credentials never touch trusts: a trust would let the
 * credential hand out roles beyond its own (Keystone's delegation guard, LP#2150089).
 */
function refuseAppCredToken(ctx: AuthContext): void {
  if (ctx.appCredId || ctx.methods.includes('application_credential')) {
    throw forbidden('You are not authorized to perform the requested action: Delegated tokens cannot manage trusts.');
  }
}

function trustTarget(trust: Trust): Record<string, unknown> {
  return { target: { trust: { id: trust.id, trustor_user_id: trust.trustorUserId, trustee_user_id: trust.trusteeUserId, project_id: trust.projectId } } };
}

/** /v3/OS-TRUST/trusts and the roles they delegate. */
export async function trustRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const renderFull = async (request: FastifyRequest, trust: Trust) => renderTrust(api.v3Url(request), trust, await rolesInOrder(service, trust.roleIds));

  /** A trust the caller may see under `rule`: 401 without a token, 404 before any policy check (lp#1840288). */
  const authorizedTrust = async (request: FastifyRequest, trustId: string, rule: string): Promise<Trust> => {
    const ctx = await api.authenticate(request);
    const trust = await service.trusts.getTrust(trustId);
    api.authorize(request, rule, trustTarget(trust));
    refuseAppCredToken(ctx);
    return trust;
  };

  app.post('/v3/OS-TRUST/trusts', { schema: { body: TrustCreateBody } }, async (request, reply) => {
    const body = (request.body as { trust: TrustCreate & Record<string, unknown> }).trust;
    const ctx = await api.guard(request, 'identity:create_trust', { trust: body });
    refuseAppCredToken(ctx);
    const extra = Object.fromEntries(Object.entries(body).filter(([key]) => !TRUST_KEYS.has(key)));
    const trust = await service.trusts.createTrust(
      {
        trustorUserId: body.trustor_user_id,
        trusteeUserId: body.trustee_user_id,
        impersonation: body.impersonation,
        projectId: body.project_id,
        roles: body.roles as RoleRef[] | undefined,
        expiresAt: body.expires_at,
        remainingUses: body.remaining_uses,
        allowRedelegation: body.allow_redelegation,
        redelegationCount: body.redelegation_count,
        extra,
      },
      { userId: ctx.user.id, trustId: ctx.trustId },
    );
    reply.code(201);
    return { trust: await renderFull(request, trust) };
  });

  app.get('/v3/OS-TRUST/trusts', async (request) => {
    const trustorUserId = queryParam(request, 'trustor_user_id');
    const trusteeUserId = queryParam(request, 'trustee_user_id');
    const ctx = await api.authenticate(request);
    let trusts: Trust[];
    if (trustorUserId) {
      api.authorize(request, 'identity:list_trusts_for_trustor', { target: { trust: { trustor_user_id: trustorUserId } } });
      refuseAppCredToken(ctx);
      trusts = await service.trusts.listTrusts({ trustorUserId });
    } else if (trusteeUserId) {
      api.authorize(request, 'identity:list_trusts_for_trustee', { target: { trust: { trustee_user_id: trusteeUserId } } });
      refuseAppCredToken(ctx);
      trusts = await service.trusts.listTrusts({ trusteeUserId });
    } else {
      api.authorize(request, 'identity:list_trusts');
      // Everyone's trusts are for admins only: others must filter by themselves (Keystone's list_trusts fallback).
      const unfiltered = Object.keys((request.query as Record<string, unknown> | undefined) ?? {}).length === 0;
      if (unfiltered) api.authorize(request, 'admin_required');
      refuseAppCredToken(ctx);
      trusts = unfiltered ? await service.trusts.listTrusts({}) : [];
    }
    const v3 = api.v3Url(request);
    return { trusts: trusts.map((t) => renderTrust(v3, t)), links: { self: `${v3}/OS-TRUST/trusts`, previous: null, next: null } };
  });

  app.get<{ Params: TrustParams }>('/v3/OS-TRUST/trusts/:trust_id', async (request) => {
    const trust = await authorizedTrust(request, request.params.trust_id, 'identity:get_trust');
    return { trust: await renderFull(request, trust) };
  });

  app.delete<{ Params: TrustParams }>('/v3/OS-TRUST/trusts/:trust_id', async (request, reply) => {
    const trust = await authorizedTrust(request, request.params.trust_id, 'identity:delete_trust');
    await service.trusts.deleteTrust(trust.id);
    reply.code(204).send();
  });

  app.get<{ Params: TrustParams }>('/v3/OS-TRUST/trusts/:trust_id/roles', async (request) => {
    const trust = await authorizedTrust(request, request.params.trust_id, 'identity:list_roles_for_trust');
    const v3 = api.v3Url(request);
    const roles = await rolesInOrder(service, trust.roleIds);
    return { roles: roles.map((r) => renderTrustRole(v3, r)), links: { self: `${v3}/OS-TRUST/trusts/${trust.id}/roles`, previous: null, next: null } };
  });

  // HEAD is derived by Fastify: same checks and status (200), no body, as Tempest's check_trust_role expects.
  app.get<{ Params: TrustRoleParams }>('/v3/OS-TRUST/trusts/:trust_id/roles/:role_id', async (request) => {
    const { trust_id: trustId, role_id: roleId } = request.params;
    const trust = await authorizedTrust(request, trustId, 'identity:get_role_for_trust');
    if (!trust.roleIds.includes(roleId)) throw notFound(`Could not find role: ${roleId}.`);
    const [role] = await service.roles.rolesByIds([roleId]);
    if (!role) throw notFound(`Could not find role: ${roleId}.`);
    return { role: renderTrustRole(api.v3Url(request), role) };
  });
}
