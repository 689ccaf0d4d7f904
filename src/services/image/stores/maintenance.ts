import { PermanentJobError, type JobHandler } from '../../../common/jobs/index.js';
import type { ImageLocation } from '../model/image.js';
import { DATA_QUEUE, type ImageService } from '../service.js';
import { SwiftImageStore } from './object-store.js';

/** v1 (before multi-store): `location` was `<store type>:<key>`; v2 names the store and the URL. */
type DeleteDataPayload = { v: 1; location: string } | { v: 2; store: string | null; url: string; image?: string };

/**
 * Enqueues the deletion of each location's data (one durable job per copy). With `image`, the
 * image row is about to go: while it still names the copy the job waits (retries) for it.
 */
export async function deleteDataOf(service: ImageService, locations: readonly ImageLocation[], image?: string): Promise<void> {
  for (const location of locations) {
    const store = typeof location.metadata.store === 'string' ? location.metadata.store : null;
    await service.deps.jobs.enqueue(DATA_QUEUE, 'delete_data', { v: 2, store, url: location.url, ...(image ? { image } : {}) });
  }
}

function locationOfPayload(payload: DeleteDataPayload): ImageLocation {
  if (payload.v === 1) {
    const [type = '', ...rest] = payload.location.split(':');
    return { url: `${type}:${rest.join(':')}`, metadata: {} };
  }
  return { url: payload.url, metadata: payload.store ? { store: payload.store } : {} };
}

/**
 * delete_data removes one copy's bytes; it is idempotent and keeps data an image row still
 * points at. reap_store removes what a crash left in a store that is reached over the API
 * (filesystem stores are reaped synchronously at start, before any upload can be in flight).
 */
export function dataJobHandlers(service: ImageService): JobHandler[] {
  const deleteData: JobHandler<DeleteDataPayload> = {
    queue: DATA_QUEUE,
    kind: 'delete_data',
    run: async (payload) => {
      if (payload.v !== 1 && payload.v !== 2) throw new PermanentJobError(`unsupported delete_data payload v${String((payload as { v: unknown }).v)}`);
      const location = locationOfPayload(payload);
      const found = service.stores.resolve(location);
      if (!found) return { skipped: location.url };
      if ((await referencedKeys(service, found.entry.id)).has(found.key)) {
        // The job can run before the deleting request removed the row: wait for it, or keep
        // the data for good if the row stays (the delete failed after enqueueing).
        const pending = payload.v === 2 && payload.image !== undefined && (await service.repo.exists(payload.image));
        if (pending) throw new Error(`image ${payload.image} still references ${location.url}`);
        return { kept: true };
      }
      await found.entry.store.delete(found.key);
      return { deleted: location.url };
    },
  };
  const reapStore: JobHandler<{ v: 1; store: string }> = {
    queue: DATA_QUEUE,
    kind: 'reap_store',
    run: async (payload) => {
      const entry = service.stores.find(payload.store);
      if (!entry) return { skipped: payload.store };
      const partial = await entry.store.cleanupPartial();
      const orphans = await reapOrphans(service, entry.id);
      return { partial, orphans };
    },
  };
  return [deleteData as unknown as JobHandler, reapStore as unknown as JobHandler];
}

/** Keys of one store that image rows still point at. */
async function referencedKeys(service: ImageService, storeId: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const location of await service.repo.referencedLocations()) {
    const found = service.stores.resolve(location);
    if (found?.entry.id === storeId) keys.add(found.key);
  }
  return keys;
}

async function reapOrphans(service: ImageService, storeId: string): Promise<number> {
  const entry = service.stores.find(storeId);
  if (!entry || entry.readOnly) return 0;
  const referenced = await referencedKeys(service, storeId);
  // A swift put writes its manifest before the image row names it: only old objects are orphans.
  const keys = entry.store instanceof SwiftImageStore ? await entry.store.listOlderThan(60 * 60_000) : await entry.store.list();
  let reaped = 0;
  for (const key of keys) {
    if (referenced.has(key)) continue;
    service.deps.log.info({ store: storeId, key }, 'reaping orphaned image data');
    await entry.store.delete(key);
    reaped += 1;
  }
  return reaped;
}

/** Start-up part of ImageService.reconcile: file stores now, API-backed stores by a job. */
export async function reconcileStores(service: ImageService): Promise<void> {
  for (const entry of service.stores.entries) {
    if (entry.readOnly) continue;
    if (entry.store instanceof SwiftImageStore) {
      // Needs the HTTP app, which is not serving yet; the job runs once workers start.
      await service.deps.jobs.enqueue(DATA_QUEUE, 'reap_store', { v: 1, store: entry.id }, { dedupeKey: entry.id });
      continue;
    }
    await entry.store.cleanupPartial();
    await reapOrphans(service, entry.id);
  }
}
