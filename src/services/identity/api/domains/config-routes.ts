import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';

type ConfigParams = { domain_id: string; group?: string; option?: string };
type DefaultParams = { group?: string; option?: string };

/** The `config` member of a request body; anything else counts as "no options" (Keystone's 403). */
function configOf(body: unknown): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).config : undefined;
}

/**
 * /v3/domains/{domain_id}/config[/{group}[/{option}]] and the defaults under
 * /v3/domains/config[/{group}[/{option}]]/default.
 */
export async function domainConfigRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;
  const configs = service.domainConfigs;

  const show = async (request: FastifyRequest<{ Params: ConfigParams }>) => {
    const { domain_id: domainId, group, option } = request.params;
    if (group === 'security_compliance') {
      // Password rules are readable by anyone (users need them to pick a password), for the default domain only.
      await api.guard(request, 'identity:get_security_compliance_domain_config');
      await service.resource.getDomain(domainId);
      return { config: configs.getSecurityCompliance(domainId, option) };
    }
    await api.guard(request, 'identity:get_domain_config');
    await service.resource.getDomain(domainId);
    return { config: await configs.get(domainId, group, option) };
  };

  const update = async (request: FastifyRequest<{ Params: ConfigParams }>) => {
    const { domain_id: domainId, group, option } = request.params;
    await api.guard(request, 'identity:update_domain_config');
    return { config: await configs.update(domainId, configOf(request.body), group, option) };
  };

  const remove = async (request: FastifyRequest<{ Params: ConfigParams }>, reply: FastifyReply) => {
    const { domain_id: domainId, group, option } = request.params;
    await api.guard(request, 'identity:delete_domain_config');
    await configs.delete(domainId, group, option);
    reply.code(204).send();
  };

  const showDefault = async (request: FastifyRequest<{ Params: DefaultParams }>) => {
    await api.guard(request, 'identity:get_domain_config_default');
    return { config: configs.getDefault(request.params.group, request.params.option) };
  };

  app.put<{ Params: ConfigParams }>('/v3/domains/:domain_id/config', async (request, reply) => {
    await api.guard(request, 'identity:create_domain_config');
    const result = await configs.create(request.params.domain_id, configOf(request.body));
    reply.code(result.created ? 201 : 200);
    return { config: result.config };
  });

  for (const path of ['/v3/domains/:domain_id/config', '/v3/domains/:domain_id/config/:group', '/v3/domains/:domain_id/config/:group/:option']) {
    app.get<{ Params: ConfigParams }>(path, show);
    app.patch<{ Params: ConfigParams }>(path, update);
    app.delete<{ Params: ConfigParams }>(path, remove);
  }

  for (const path of ['/v3/domains/config/default', '/v3/domains/config/:group/default', '/v3/domains/config/:group/:option/default']) {
    app.get<{ Params: DefaultParams }>(path, showDefault);
  }
}
