import type { FastifyInstance } from 'fastify';
import { METADEF_SCHEMAS, type MetadefSchemaName } from '../../metadefs/schemas.js';
import type { MetadefApi } from './context.js';

/** GET /v2/schemas/metadefs/{namespace,namespaces,object,...}: any authenticated user may read them. */
export async function metadefSchemaRoutes(app: FastifyInstance, api: MetadefApi): Promise<void> {
  for (const name of Object.keys(METADEF_SCHEMAS) as MetadefSchemaName[]) {
    app.get(`/v2/schemas/metadefs/${name}`, async (request) => {
      await api.guard(request, 'get_metadef_namespaces');
      return METADEF_SCHEMAS[name]();
    });
  }
}
