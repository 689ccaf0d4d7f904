import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CloudError, badRequest, conflict, forbidden, notFound } from '../../../common/errors.js';
import { isUuid, uuid } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import type { JobHandler } from '../../../common/jobs/index.js';
import type { Caller } from '../caller.js';
import { storeOfLocation, type Image } from '../model/image.js';
import type { ImageService } from '../service.js';
import type { FilesystemImageStore } from '../stores/filesystem.js';
import { deleteDataOf } from '../stores/maintenance.js';
import { FAILED_STORES, IMPORTING_STORES, IMPORT_TASK, ImportState, STAGE_HOST, mergeStores, type ImportView } from './image-state.js';
import { filterImportUri } from './sources.js';
import { SizeLimit, stagingStore, through } from './staging.js';
import { TaskRepository, type Task } from './tasks.js';
import { importJobHandlers, type ImportPayload } from './runner.js';

export const IMPORT_METHODS = ['glance-direct', 'web-download', 'copy-image', 'glance-download'] as const;
export type ImportMethod = (typeof IMPORT_METHODS)[number];
export const IMPORT_QUEUE = 'image.import';

/** Who asked: the facts of the request a task records (and glance-download acts with). */
export interface RequestFacts {
  caller: Caller;
  userId: string | null;
  requestId: string;
  token: string;
}

const LOCK_EXPIRY_MS = 60 * 60_000;

/** Interoperable image import: staging, POST /import, the task records and the import jobs. */
export class ImportService {
  readonly tasks: TaskRepository;
  readonly state: ImportState;
  readonly staging: FilesystemImageStore;
  /** This process as os_glance_stage_host names it. */
  readonly selfUrl: string;
  /** Origin of this cloud's public URL: downloads from it run in-process. */
  readonly selfOrigin: string;

  constructor(readonly image: ImageService) {
    const { config } = image.deps;
    this.tasks = new TaskRepository(image.deps.db);
    this.state = new ImportState(image.deps.db, () => image.now());
    this.staging = stagingStore(config.server.data_dir, config.image.staging_dir);
    const publicUrl = (config.server.public_url ?? `http://${config.server.bind}`).replace(/\/+$/, '');
    this.selfUrl = (config.image.worker_self_reference_url ?? publicUrl).replace(/\/+$/, '');
    this.selfOrigin = new URL(publicUrl).origin;
    image.beforeDelete.push((img) => this.discardStaged(img));
  }

  /** enabled_import_methods, keeping only the methods this service implements. */
  get methods(): ImportMethod[] {
    const wanted = this.image.config.enabled_import_methods.split(',').map((m) => m.trim());
    return IMPORT_METHODS.filter((m) => wanted.includes(m));
  }

  /** The queue only the process that staged an image works on (its staging area is local). */
  nodeQueue(stageHost: string = this.selfUrl): string {
    return `${IMPORT_QUEUE}.node-${createHash('sha256').update(stageHost).digest('hex').slice(0, 12)}`;
  }

  jobHandlers(): JobHandler[] {
    return importJobHandlers(this);
  }

  /** PUT /v2/images/{id}/stage: queued -> uploading, the bytes into the staging area. */
  async stage(caller: Caller, id: string, data: Readable, contentLength: number | null): Promise<void> {
    if (!this.methods.includes('glance-direct')) throw notFound("'glance-direct' method is not available at this site.");
    const image = await this.image.getMutable(caller, id);
    const cap = this.image.config.image_size_cap;
    await this.image.quotas.enforce(caller.project, { image_stage_total: 0 });
    if (!(await this.image.repo.transition(id, ['queued'], { status: 'uploading', updated_at: this.image.now() }))) {
      throw conflict(`Image status transition from ${image.status} to uploading is not allowed`);
    }
    const restore = async () => this.image.repo.transition(id, ['uploading'], { status: 'queued', updated_at: this.image.now() });
    try {
      // Counted with this image already uploading, as Glance counts it.
      await this.image.quotas.enforce(caller.project, { image_count_uploading: 0 });
    } catch (err) {
      await restore();
      throw err;
    }
    if (await this.staging.stat(id)) {
      await restore();
      throw conflict(`The image ${id} has data on staging`);
    }
    const limit = new SizeLimit(cap);
    try {
      if (contentLength !== null && contentLength > cap) throw new CloudError('payload_too_large', `The incoming image is too large: image size exceeds the limit of ${cap} bytes.`);
      await this.staging.put(id, through(data, limit));
    } catch (err) {
      await this.staging.delete(id);
      await restore();
      throw err instanceof CloudError ? err : badRequest('The staging upload was interrupted; no data was staged.');
    }
    const staged = await this.state.mutate(id, (img) => (img.status === 'uploading' ? { size: limit.size, properties: { ...img.properties, [STAGE_HOST]: this.selfUrl } } : null));
    if (!staged || staged.status !== 'uploading') {
      await this.staging.delete(id);
      throw notFound(`No image found with ID ${id}`);
    }
  }

  /** POST /v2/images/{id}/import: Glance's checks in Glance's order, then the task and its job. */
  async importImage(facts: RequestFacts, id: string, body: unknown, headerStore: string | undefined, isAdminFor: (rule: string) => boolean): Promise<void> {
    const req = validateBody(body, this.methods);
    const method = req.method.name as ImportMethod;
    const image = await this.image.get(facts.caller, id);
    await this.image.quotas.enforce(facts.caller.project, { image_size_total: 0 });
    if (image.status === 'active' && method !== 'copy-image') throw conflict('Image with status active cannot be target for import');
    if (image.status !== 'active' && method === 'copy-image') throw conflict('Only images with status active can be targeted for copying');
    if (image.status !== 'queued' && (method === 'web-download' || method === 'glance-download')) throw conflict(`Image needs to be in 'queued' state to use '${method}' method`);
    if (image.status !== 'uploading' && method === 'glance-direct') throw conflict("Image needs to be staged before 'glance-direct' method can be used");
    if (!image.containerFormat) throw conflict("'container_format' needs to be set before import");
    if (!image.diskFormat) throw conflict("'disk_format' needs to be set before import");
    if (method === 'glance-download') {
      if (!('glance_region' in req.method)) throw badRequest("'glance_region' needs to be set for glance-download import method");
      if (!('glance_image_id' in req.method)) throw badRequest("'glance_image_id' needs to be set for glance-download import method");
      if (typeof req.method.glance_image_id !== 'string' || !isUuid(req.method.glance_image_id)) throw badRequest(`Remote image id does not look like a UUID: ${String(req.method.glance_image_id)}`);
      req.method.glance_service_interface ??= 'public';
    }
    if (method === 'copy-image') {
      if (!isAdminFor('copy_image')) throw forbidden('You are not authorized to complete copy_image action.');
    } else if (!this.image.isOwner(facts.caller, image)) {
      throw forbidden('You are not authorized to complete modify_image action.');
    }
    const stale = image.properties[IMPORT_TASK] ? await this.checkLock(image) : null;
    let stores = this.requestedStores(req, headerStore);
    const present = new Set(image.locations.map(storeOfLocation));
    if (method === 'copy-image' && req.all_stores === true) {
      stores = stores.filter((s) => !present.has(s));
      if (!stores.length) return; // Already in every store: nothing to do, and no task.
    } else if (method === 'copy-image') {
      const already = stores.find((s) => present.has(s));
      if (already) throw badRequest(`Image is already present at store '${already}'`);
    }
    const uri = method === 'web-download' ? filterImportUri(req.method.uri).href : undefined;

    const now = this.image.now();
    const task: Task = {
      id: uuid(), type: 'api_image_import', status: 'pending', owner: facts.caller.project, imageId: id, requestId: facts.requestId, userId: facts.userId,
      input: { image_id: id, import_req: req, backend: stores }, result: null, message: '', expiresAt: null, createdAt: now, updatedAt: now,
    };
    // Lock, status and progress lists change in one step: a client polling after the 202 sees them.
    let locked = false;
    const after = await this.state.mutate(id, (img) => {
      const holder = img.properties[IMPORT_TASK];
      if (holder && holder !== stale?.id) return null;
      locked = true;
      let properties: Record<string, string> = { ...img.properties, [IMPORT_TASK]: task.id };
      if (stale) for (const key of [IMPORTING_STORES, FAILED_STORES]) properties = mergeStores(properties, key, stale.stores, true);
      properties = mergeStores(mergeStores(properties, IMPORTING_STORES, stores), FAILED_STORES, stores, true);
      return { properties, ...(method !== 'copy-image' ? { status: 'importing' as const } : {}) };
    });
    if (!after) throw notFound(`No image found with ID ${id}`);
    if (!locked) throw conflict(`New operation on image '${id}' is not permitted as prior operation is still in progress`);
    await this.tasks.purge(now);
    await this.tasks.insert(task);
    const payload: ImportPayload = {
      v: 1, task: task.id, image: id, method, stores, allStoresMustSucceed: req.all_stores_must_succeed !== false,
      ...(uri ? { uri } : {}),
      ...(method === 'glance-download' ? { glance: { region: String(req.method.glance_region), imageId: String(req.method.glance_image_id), iface: String(req.method.glance_service_interface), token: facts.token } } : {}),
    };
    const queue = method === 'glance-direct' ? this.nodeQueue(image.properties[STAGE_HOST]) : IMPORT_QUEUE;
    await this.image.deps.jobs.enqueue(queue, 'api_image_import', payload);
  }

  /** An existing import lock: 409 while valid; expired (or orphaned) locks are broken, as Glance does. */
  private async checkLock(image: Image): Promise<{ id: string; stores: string[] } | null> {
    const holder = image.properties[IMPORT_TASK] as string;
    const task = await this.tasks.find(holder, this.image.now());
    if (task) {
      const age = Date.parse(this.image.now()) - Date.parse(task.updatedAt);
      const expiry = task.status === 'pending' ? 2 * LOCK_EXPIRY_MS : LOCK_EXPIRY_MS;
      if (age < expiry) throw conflict('Image has active task');
      if (task.status === 'pending' || task.status === 'processing') {
        await this.tasks.transition(task.id, ['pending', 'processing'], 'failure', { message: 'Expired lock preempted', expiresAt: this.expiry(), updatedAt: this.image.now() });
      }
    }
    const stores = Array.isArray(task?.input.backend) ? (task.input.backend as string[]) : [];
    return { id: holder, stores };
  }

  expiry(): string {
    return isoMicro(new Date(Date.parse(this.image.now()) + this.image.config.task_time_to_live * 3600_000));
  }

  /** Glance's get_stores_from_request, with the store checks of import (unknown -> 409). */
  private requestedStores(req: ImportBody, headerStore: string | undefined): string[] {
    let stores: string[];
    if (req.all_stores === true) {
      if (req.stores !== undefined || headerStore !== undefined) throw badRequest("All_stores parameter can't be used with x-image-meta-store header or stores parameter");
      stores = this.image.stores.writable().map((e) => e.id);
    } else if (req.stores !== undefined) {
      if (headerStore !== undefined) throw badRequest("Stores parameter and x-image-meta-store header can't be both specified");
      if (!Array.isArray(req.stores) || !req.stores.every((s) => typeof s === 'string')) throw badRequest("'stores' must be a list of store identifiers");
      stores = [...new Set(req.stores as string[])];
    } else {
      stores = [headerStore ?? this.image.stores.defaultId];
    }
    for (const store of stores) if (!this.image.stores.find(store)) throw conflict(`Store for identifier ${store} not found`);
    return stores;
  }

  /** DELETE /v2/stores/{store_id}/{image_id}: drops one copy; never the last one. */
  async deleteFromStore(caller: Caller, storeId: string, id: string): Promise<void> {
    if (!this.image.stores.find(storeId)) throw conflict(`The selected store ${storeId} is not available on this node.`);
    const image = await this.image.repo.find(id);
    if (!image || !(await this.image.visible(caller, image))) throw notFound(`Failed to find image ${id}`);
    if (!this.image.isOwner(caller, image)) throw forbidden('You are not authorized to complete delete_image_location action.');
    if (image.status !== 'active') throw conflict("It's not allowed to remove image data from store if image status is not 'active'");
    if (image.locations.length === 1) throw forbidden('Cannot delete image data from the only store containing it. Consider deleting the image instead.');
    let removed: ImportView['locations'] = [];
    const after = await this.state.mutate(id, (img) => {
      const at = img.locations.findIndex((l) => storeOfLocation(l) === storeId);
      if (at < 0 || img.status !== 'active' || img.locations.length < 2) return null;
      removed = img.locations.slice(at, at + 1);
      return { locations: img.locations.filter((_l, i) => i !== at) };
    });
    if (!after) throw notFound(`Failed to find image ${id}`);
    if (!removed.length) throw notFound(`Image ${id} is not stored in store ${storeId}.`);
    await deleteDataOf(this.image, removed);
  }

  /** Staged bytes go with their image: here if this process staged them, else on the stager's queue. */
  private async discardStaged(image: Image): Promise<void> {
    const host = image.properties[STAGE_HOST];
    if (!host && image.status !== 'uploading' && image.status !== 'importing') return;
    if (!host || host === this.selfUrl) await this.staging.delete(image.id);
    else await this.image.deps.jobs.enqueue(this.nodeQueue(host), 'discard_staged', { v: 1, image: image.id });
  }
}

export interface ImportBody {
  method: { name: string; uri?: unknown; glance_region?: unknown; glance_image_id?: unknown; glance_service_interface?: unknown } & Record<string, unknown>;
  stores?: unknown;
  all_stores?: unknown;
  all_stores_must_succeed?: unknown;
}

/** The request deserializer's ad-hoc checks (Glance validates no schema here either). */
function validateBody(body: unknown, methods: readonly string[]): ImportBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Body expected in request.');
  const b = body as Record<string, unknown>;
  const method = b.method;
  if (typeof method !== 'object' || method === null || Array.isArray(method)) throw badRequest("Import request requires a 'method' field.");
  const name = (method as Record<string, unknown>).name;
  if (name === undefined) throw badRequest("Import request requires a 'name' field.");
  if (typeof name !== 'string' || !methods.includes(name)) throw badRequest(`Unknown import method name '${String(name)}'.`);
  if ('all_stores_must_succeed' in b && typeof b.all_stores_must_succeed !== 'boolean') throw badRequest("'all_stores_must_succeed' must be boolean value only");
  if ('all_stores' in b && typeof b.all_stores !== 'boolean') throw badRequest("'all_stores' must be boolean value only");
  return b as unknown as ImportBody;
}
