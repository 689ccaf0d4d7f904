import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityApi } from '../context.js';
import { applyFilters, collection, extraOf, memberOf, paramsOf, queryOf, requireMatchingId } from '../catalog/common.js';
import { ConsumerCreateBody, ConsumerUpdateBody, PolicyCreateBody, PolicyUpdateBody } from './schemas.js';
import { renderConsumer, renderPolicy } from './view.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** /v3/policies (opaque policy blobs) and /v3/OS-OAUTH1/consumers. */
export async function miscRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const extras = api.service.extras;
  const v3 = (request: FastifyRequest) => api.v3Url(request);

  // ---- policies ----

  app.get('/v3/policies', async (request) => {
    await api.guard(request, 'identity:list_policies');
    const policies = applyFilters(await extras.listPolicies(), queryOf(request), { type: (p) => p.type });
    return collection(api, request, 'policies', '/policies', policies.map((p) => renderPolicy(v3(request), p)));
  });

  app.get('/v3/policies/:policy_id', async (request) => {
    await api.guard(request, 'identity:get_policy');
    return { policy: renderPolicy(v3(request), await extras.getPolicy(paramsOf(request).policy_id ?? '')) };
  });

  app.post('/v3/policies', { schema: { body: PolicyCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_policy');
    const body = memberOf(request.body, 'policy');
    const policy = await extras.createPolicy({ type: body.type as string, blob: body.blob as string, extra: extraOf(body, ['type', 'blob']) });
    reply.code(201);
    return { policy: renderPolicy(v3(request), policy) };
  });

  app.patch('/v3/policies/:policy_id', { schema: { body: PolicyUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_policy');
    const id = paramsOf(request).policy_id ?? '';
    const body = memberOf(request.body, 'policy');
    requireMatchingId(body, id);
    const policy = await extras.updatePolicy(id, { type: str(body.type), blob: str(body.blob), extra: extraOf(body, ['type', 'blob']) });
    return { policy: renderPolicy(v3(request), policy) };
  });

  app.delete('/v3/policies/:policy_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_policy');
    await extras.deletePolicy(paramsOf(request).policy_id ?? '');
    reply.code(204).send();
  });

  // ---- OS-OAUTH1 consumers (the OAuth1 token flow itself is not offered) ----

  app.get('/v3/OS-OAUTH1/consumers', async (request) => {
    await api.guard(request, 'identity:list_consumers');
    const consumers = await extras.listConsumers();
    return collection(api, request, 'consumers', '/OS-OAUTH1/consumers', consumers.map((c) => renderConsumer(v3(request), c)));
  });

  app.get('/v3/OS-OAUTH1/consumers/:consumer_id', async (request) => {
    await api.guard(request, 'identity:get_consumer');
    return { consumer: renderConsumer(v3(request), await extras.getConsumer(paramsOf(request).consumer_id ?? '')) };
  });

  app.post('/v3/OS-OAUTH1/consumers', { schema: { body: ConsumerCreateBody } }, async (request, reply) => {
    await api.guard(request, 'identity:create_consumer');
    const body = memberOf(request.body, 'consumer');
    const consumer = await extras.createConsumer({ description: body.description as string | null | undefined, extra: extraOf(body, ['description', 'secret']) });
    reply.code(201);
    return { consumer: renderConsumer(v3(request), consumer) };
  });

  app.patch('/v3/OS-OAUTH1/consumers/:consumer_id', { schema: { body: ConsumerUpdateBody } }, async (request) => {
    await api.guard(request, 'identity:update_consumer');
    const id = paramsOf(request).consumer_id ?? '';
    const body = memberOf(request.body, 'consumer');
    requireMatchingId(body, id);
    const consumer = await extras.updateConsumer(id, { description: body.description as string | null | undefined, extra: extraOf(body, ['description', 'secret']) });
    return { consumer: renderConsumer(v3(request), consumer) };
  });

  app.delete('/v3/OS-OAUTH1/consumers/:consumer_id', async (request, reply) => {
    await api.guard(request, 'identity:delete_consumer');
    await extras.deleteConsumer(paramsOf(request).consumer_id ?? '');
    reply.code(204).send();
  });
}
