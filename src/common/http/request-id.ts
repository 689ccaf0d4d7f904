import type { FastifyInstance } from 'fastify';

/** Every response carries x-openstack-request-id (and OpenStack's older alias for Swift-style clients). */
export function registerRequestId(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-openstack-request-id', request.id);
  });
}
