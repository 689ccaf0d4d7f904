import { Transform, pipeline, type TransformCallback } from 'node:stream';
import type { JobHandler } from '../../../common/jobs/index.js';
import { VirtualSizeInspector } from '../formats/virtual-size.js';
import { storeOfLocation, type ImageLocation } from '../model/image.js';
import { deleteDataOf } from '../stores/maintenance.js';
import { FAILED_STORES, IMPORTING_STORES, IMPORT_TASK, ImportAbort, STAGE_HOST, mergeStores, type ImportView } from './image-state.js';
import { downloadGlanceImage, downloadToStaging, stageCopyOf, type MetadataUndo } from './download.js';
import { HashingTransform } from '../hashing/image-digests.js';
import type { ImportMethod, ImportService } from './service.js';

export type ImportPayload = {
  v: 1;
  task: string;
  image: string;
  method: ImportMethod;
  /** Target stores, in order. */
  stores: string[];
  allStoresMustSucceed: boolean;
  uri?: string;
  /** glance-download: where the source image is, and the token of the user who asked. */
  glance?: { region: string; imageId: string; iface: string; token: string };
};

class StoreFailed extends Error {
  constructor(readonly store: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const PROGRESS_MS = 60_000;
const MiB = 1 << 20;

/**
 * The api_image_import job: Glance's import flow (lock check, fetch into staging, copy into each
 * store, verify, complete) as one idempotent run. A rerun after a crash skips stores that already
 * have a copy; a failure reverts as Glance's flow does and is recorded on the task, not retried.
 */
export function importJobHandlers(svc: ImportService): JobHandler[] {
  const run = async (payload: ImportPayload, ctx: { signal: AbortSignal }) => new ImportRun(svc, payload, ctx.signal).run();
  const handlers: JobHandler<ImportPayload>[] = [
    { queue: 'image.import', kind: 'api_image_import', run },
    { queue: svc.nodeQueue(), kind: 'api_image_import', run },
  ];
  const discard: JobHandler<{ v: 1; image: string }> = {
    queue: svc.nodeQueue(),
    kind: 'discard_staged',
    run: async (payload) => {
      await svc.staging.delete(payload.image);
      return { discarded: payload.image };
    },
  };
  return [...handlers, discard].map((h) => h as unknown as JobHandler);
}

class ImportRun {
  private readonly id: string;
  /** Locations this run added: a failed all-or-nothing import removes them again. */
  private readonly added: ImageLocation[] = [];
  private undo: MetadataUndo | null = null;

  constructor(private readonly svc: ImportService, private readonly p: ImportPayload, private readonly signal: AbortSignal) {
    this.id = p.image;
  }

  private now(): string {
    return this.svc.image.now();
  }

  async run(): Promise<unknown> {
    const task = await this.svc.tasks.find(this.p.task, this.now());
    if (!task || task.status === 'success' || task.status === 'failure') return { skipped: this.p.task };
    if (task.status === 'pending') await this.svc.tasks.transition(task.id, ['pending'], 'processing', { updatedAt: this.now() });
    try {
      await this.holdingLock();
      const pending = await this.pendingStores();
      if (pending.length) await this.fetchSource();
      for (const [index, store] of this.p.stores.entries()) {
        if (!pending.includes(store)) continue;
        const last = index === this.p.stores.length - 1;
        await this.importTo(store, this.p.method !== 'copy-image' && (!this.p.allStoresMustSucceed || last));
      }
      await this.svc.staging.delete(this.id);
      const image = await this.holdingLock();
      if (image.status !== 'active') throw new ImportAbort('None of the uploads finished!');
      await this.complete();
      return { imported: this.id };
    } catch (err) {
      // A stopping worker gives the job back; the rerun picks up where this one was.
      if (this.signal.aborted) throw err;
      await this.fail(err);
      return { failed: err instanceof Error ? err.message : String(err) };
    }
  }

  private async holdingLock(): Promise<ImportView> {
    const image = await this.svc.state.read(this.id);
    if (!image || image.status === 'deleted') throw new ImportAbort('Image has been deleted, aborting import.');
    if (image.properties[IMPORT_TASK] !== this.p.task) throw new ImportAbort(`Image ${this.id} import task ${this.p.task} lost its lock.`);
    return image;
  }

  private async pendingStores(): Promise<string[]> {
    const image = await this.holdingLock();
    const present = new Set(image.locations.map(storeOfLocation));
    return this.p.stores.filter((s) => !present.has(s));
  }

  /** Puts the source bytes into the staging area (glance-direct finds them there already). */
  private async fetchSource(): Promise<void> {
    const { svc, p } = this;
    switch (p.method) {
      case 'glance-direct':
        if (!(await svc.staging.stat(this.id))) throw new ImportAbort(`Image ${this.id} has no data in the staging area.`);
        return;
      case 'web-download':
        await downloadToStaging(svc, this.id, new URL(p.uri as string), this.signal);
        return;
      case 'glance-download':
        await downloadGlanceImage(svc, this.id, p.glance as NonNullable<ImportPayload['glance']>, this.signal, (undo) => {
          this.undo = undo;
        });
        return;
      case 'copy-image':
        await stageCopyOf(svc, await this.holdingLock(), this.signal);
        return;
    }
  }

  private async importTo(storeId: string, setActive: boolean): Promise<void> {
    const { svc } = this;
    try {
      const entry = svc.image.stores.find(storeId);
      if (!entry) throw new Error(`Store for identifier ${storeId} not found`);
      if (entry.readOnly) throw new Error('Error in store configuration. Adding images to store is disabled.');
      const image = await this.holdingLock();
      const hashing = new HashingTransform();
      const inspector = new VirtualSizeInspector();
      // pipeline() carries a read error of the staged file through to the store's put.
      const source = pipeline(await svc.staging.get(this.id), hashing, this.progress(inspector), () => undefined);
      await entry.store.put(this.id, source, this.signal);
      const location = svc.image.stores.locationFor(storeId, this.id);
      const first = image.checksum === null;
      const after = await svc.state.mutate(this.id, (img) => {
        if (img.properties[IMPORT_TASK] !== this.p.task) return null;
        return {
          locations: [...img.locations, location],
          properties: mergeStores(img.properties, IMPORTING_STORES, [storeId], true),
          ...(setActive && img.status !== 'active' ? { status: 'active' as const } : {}),
          ...(first
            ? { checksum: hashing.digests.checksum, osHashAlgo: hashing.digests.osHashAlgo, osHashValue: hashing.digests.osHashValue, size: hashing.size, virtualSize: inspector.virtualSize(img.diskFormat) }
            : {}),
        };
      });
      if (!after || !after.locations.some((l) => l.url === location.url)) {
        // Deleted, or the lock was taken over while copying: these bytes belong to nobody.
        await entry.store.delete(this.id);
        throw new ImportAbort('Image has been deleted, aborting import.');
      }
      this.added.push(location);
      if (setActive && image.status !== 'active') svc.image.deps.events.publish('image.activate', { id: this.id });
    } catch (err) {
      if (err instanceof ImportAbort || this.signal.aborted) throw err;
      if (this.p.allStoresMustSucceed) throw new StoreFailed(storeId, err);
      svc.image.deps.log.warn({ err, image: this.id, store: storeId }, 'import into a store failed; all_stores_must_succeed is false, continuing');
      await svc.state.mutate(this.id, (img) => ({ properties: mergeStores(mergeStores(img.properties, IMPORTING_STORES, [storeId], true), FAILED_STORES, [storeId]) }));
    }
  }

  /** Notes "Copied N MiB" on the task now and then (which also keeps its lock from expiring). */
  private progress(inspector: VirtualSizeInspector): Transform {
    let copied = 0;
    let last = Date.now();
    const { svc, p } = this;
    return new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        copied += chunk.length;
        inspector.update(chunk);
        if (Date.now() - last < PROGRESS_MS) return done(null, chunk);
        last = Date.now();
        svc.tasks.note(p.task, `Copied ${Math.floor(copied / MiB)} MiB`, svc.image.now()).then(() => done(null, chunk), done);
      },
    });
  }

  private async complete(): Promise<void> {
    const { svc, p } = this;
    await svc.tasks.transition(p.task, ['processing'], 'success', { result: { image_id: this.id }, expiresAt: svc.expiry(), updatedAt: this.now() });
    await this.release();
  }

  /** Glance's revert: status back to queued (not for copies), progress lists updated, lock dropped. */
  private async fail(err: unknown): Promise<void> {
    const { svc, p } = this;
    const message = err instanceof Error ? err.message : String(err);
    svc.image.deps.log.warn({ err, image: this.id, task: p.task }, 'image import failed');
    const failed = err instanceof StoreFailed ? [err.store] : err instanceof ImportAbort ? [] : p.stores;
    const removed: ImageLocation[] = [];
    await svc.state.mutate(this.id, (img) => {
      if (img.properties[IMPORT_TASK] !== p.task) return null;
      let properties = mergeStores(mergeStores(img.properties, IMPORTING_STORES, p.stores, true), FAILED_STORES, failed);
      const ours = new Set(p.allStoresMustSucceed ? this.added.map((l) => l.url) : []);
      removed.push(...img.locations.filter((l) => ours.has(l.url)));
      const locations = img.locations.filter((l) => !ours.has(l.url));
      const revert = p.method !== 'copy-image' && (img.status === 'importing' || img.status === 'active');
      if (this.undo) properties = this.undo.properties(properties);
      return {
        properties,
        locations,
        ...(revert ? { status: 'queued' as const, ...(locations.length ? {} : { checksum: null, osHashAlgo: null, osHashValue: null, size: null, virtualSize: null }) } : {}),
        ...(this.undo ? { diskFormat: this.undo.diskFormat, containerFormat: this.undo.containerFormat } : {}),
      };
    });
    await deleteDataOf(svc.image, removed);
    await svc.tasks.transition(p.task, ['pending', 'processing'], 'failure', { message, expiresAt: svc.expiry(), updatedAt: this.now() });
    await svc.staging.delete(this.id);
    await this.release();
  }

  private async release(): Promise<void> {
    await this.svc.state.mutate(this.id, (img) => {
      if (img.properties[IMPORT_TASK] !== this.p.task) return null;
      const { [IMPORT_TASK]: _lock, [STAGE_HOST]: _host, ...properties } = img.properties;
      return { properties };
    });
  }
}
