import type { FastifyInstance } from 'fastify';
import type { TokenValidator } from '../../../../common/auth/index.js';
import { authenticate } from '../../../../common/http/auth.js';
import type { ImportService } from '../../import/service.js';
import type { StoreEntry } from '../../stores/registry.js';
import type { ImageApi } from '../context.js';

/** The store as GET /v2/info/stores lists it: flags are the strings "true", as Glance sends them. */
function storeView(entry: StoreEntry, defaultId: string): Record<string, unknown> {
  return {
    id: entry.id,
    ...(entry.description ? { description: entry.description } : {}),
    ...(entry.id === defaultId ? { default: 'true' } : {}),
    ...(entry.readOnly ? { 'read-only': 'true' } : {}),
  };
}

/** Discovery: /v2/info/import, /v2/info/stores and (admins) /v2/info/stores/detail. */
export async function infoRoutes(app: FastifyInstance, api: ImageApi, importer: ImportService, tokens: TokenValidator): Promise<void> {
  const stores = importer.image.stores;

  app.get('/v2/info/import', async (request) => {
    await authenticate(request, tokens);
    return { 'import-methods': { description: 'Import methods available.', type: 'array', value: importer.methods } };
  });

  app.get('/v2/info/stores', async (request) => {
    await authenticate(request, tokens);
    return { stores: stores.entries.map((e) => storeView(e, stores.defaultId)) };
  });

  app.get('/v2/info/stores/detail', async (request) => {
    await api.guard(request, 'stores_info_detail');
    return { stores: stores.entries.map((e) => ({ ...storeView(e, stores.defaultId), type: e.type, properties: e.properties, weight: e.weight })) };
  });
}
