import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import type { Actor, ActorKind, GrantContext, GrantTarget } from '../../managers/assignments.js';
import { renderRole } from '../roles/view.js';

type GrantParams = { target_id?: string; actor_id: string; role_id?: string };

interface GrantFamily {
  /** URL prefix up to the actor, e.g. /v3/projects/:target_id or /v3/system. */
  prefix: string;
  target: (params: GrantParams) => GrantTarget;
  inherited: boolean;
  /** Policy action names: system grants have their own per-actor rules. */
  rule: (op: 'create' | 'check' | 'revoke' | 'list', actor: ActorKind) => string;
  /** Path after .../roles/{role_id} or .../roles (OS-INHERIT's /inherited_to_projects). */
  suffix: string;
  /** Keystone has list routes for every family but OS-INHERIT on projects; we serve it too. */
  list: boolean;
}

const projectOrDomainRule = (op: 'create' | 'check' | 'revoke' | 'list') => (op === 'list' ? 'identity:list_grants' : `identity:${op}_grant`);

const systemRule = (op: 'create' | 'check' | 'revoke' | 'list', actor: ActorKind) =>
  op === 'list' ? `identity:list_system_grants_for_${actor}` : `identity:${op}_system_grant_for_${actor}`;

const FAMILIES: GrantFamily[] = [
  { prefix: '/v3/projects/:target_id', target: (p) => ({ kind: 'project', id: p.target_id as string }), inherited: false, rule: projectOrDomainRule, suffix: '', list: true },
  { prefix: '/v3/domains/:target_id', target: (p) => ({ kind: 'domain', id: p.target_id as string }), inherited: false, rule: projectOrDomainRule, suffix: '', list: true },
  { prefix: '/v3/system', target: () => ({ kind: 'system' }), inherited: false, rule: systemRule, suffix: '', list: true },
  {
    prefix: '/v3/OS-INHERIT/domains/:target_id',
    target: (p) => ({ kind: 'domain', id: p.target_id as string }),
    inherited: true,
    rule: projectOrDomainRule,
    suffix: '/inherited_to_projects',
    list: true,
  },
  {
    prefix: '/v3/OS-INHERIT/projects/:target_id',
    target: (p) => ({ kind: 'project', id: p.target_id as string }),
    inherited: true,
    rule: projectOrDomainRule,
    suffix: '/inherited_to_projects',
    list: true,
  },
];

/** The policy target Keystone builds for grant rules: the role, the actor and the scope. */
function policyTarget(ctx: GrantContext): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  if (ctx.role) target.role = { id: ctx.role.id, name: ctx.role.name, domain_id: ctx.role.domainId };
  if (ctx.user) target.user = ctx.user;
  if (ctx.group) target.group = ctx.group;
  if (ctx.project) target.project = ctx.project;
  if (ctx.domain) target.domain = ctx.domain;
  return { target };
}

/**
 * The grant APIs: PUT/HEAD/GET/DELETE .../{users|groups}/{id}/roles/{role_id} and the
 * GET .../roles lists, on projects, domains, the system and OS-INHERIT's inherited grants.
 */
export async function grantRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;

  for (const family of FAMILIES) {
    for (const actorKind of ['user', 'group'] as const) {
      const base = `${family.prefix}/${actorKind}s/:actor_id/roles`;
      const one = `${base}/:role_id${family.suffix}`;
      const spec = (params: GrantParams) => ({
        actor: { kind: actorKind, id: params.actor_id } satisfies Actor,
        target: family.target(params),
        roleId: params.role_id as string,
        inherited: family.inherited,
      });

      // Keystone resolves the role, actor and scope (404) before it enforces the rule.
      const guarded = async (request: FastifyRequest<{ Params: GrantParams }>, op: 'create' | 'check' | 'revoke') => {
        await api.authenticate(request);
        const grant = spec(request.params);
        const ctx = await service.assignments.grantContext(grant, { allowMissingActor: op === 'revoke' });
        api.authorize(request, family.rule(op, actorKind), policyTarget(ctx));
        return grant;
      };

      app.put<{ Params: GrantParams }>(one, async (request, reply: FastifyReply) => {
        await service.assignments.createGrant(await guarded(request, 'create'));
        reply.code(204).send();
      });

      // GET and its derived HEAD both answer 204 when the grant exists.
      app.get<{ Params: GrantParams }>(one, async (request, reply: FastifyReply) => {
        await service.assignments.checkGrant(await guarded(request, 'check'));
        reply.code(204).send();
      });

      app.delete<{ Params: GrantParams }>(one, async (request, reply: FastifyReply) => {
        await service.assignments.revokeGrant(await guarded(request, 'revoke'));
        reply.code(204).send();
      });

      if (!family.list) continue;
      app.get<{ Params: GrantParams }>(`${base}${family.suffix}`, async (request) => {
        await api.authenticate(request);
        const { actor, target } = spec(request.params);
        const ctx = await service.assignments.grantContext({ actor, target });
        api.authorize(request, family.rule('list', actorKind), policyTarget(ctx));
        const roles = await service.assignments.listGrants(actor, target, family.inherited);
        const v3 = api.v3Url(request);
        const path = request.url.replace(/^.*?\/v3/, '');
        return { roles: roles.map((r) => renderRole(v3, r)), links: { self: `${v3}${path}`, previous: null, next: null } };
      });
    }
  }
}
