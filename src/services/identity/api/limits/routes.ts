import type { FastifyInstance } from 'fastify';
import type { IdentityApi } from '../context.js';

export async function limitRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  void app;
  void api;
}
