import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { CloudError, badRequest, conflict, forbidden } from '../../common/errors.js';
import type { Caller } from './caller.js';
import { VirtualSizeInspector } from './formats/virtual-size.js';
import { ImageDigests } from './hashing/image-digests.js';
import type { Image } from './model/image.js';
import type { ImageService } from './service.js';
import type { StoreEntry } from './stores/registry.js';
import type { ByteRange, ImageStore } from './stores/types.js';

/** Hashes (md5 + sha512, on worker threads), counts and inspects bytes as they stream to the store; refuses more than `limit`. */
class Digest extends Transform {
  readonly digests = new ImageDigests();
  readonly inspector = new VirtualSizeInspector();
  size = 0;

  constructor(
    private readonly limit: number,
    /** The request's Content-Length: a body that ends short of it is an interrupted upload. */
    private readonly expected: number | null = null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) return done(tooLarge(this.limit));
    this.inspector.update(chunk);
    this.digests.take(this, chunk, done);
  }

  override _flush(done: TransformCallback): void {
    if (this.expected !== null && this.size !== this.expected) return done(badRequest(`The image data ended after ${this.size} of the ${this.expected} bytes its Content-Length announced; nothing was saved.`));
    this.digests.finish(done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.digests.abort();
    done(err);
  }
}

const tooLarge = (limit: number): CloudError => new CloudError('payload_too_large', `Image exceeds the storage quota: The size of the data exceeds the limit: ${limit} bytes remaining.`);

/**
 * PUT /v2/images/{id}/file: queued -> saving -> active. Any failure (client gone, quota, store
 * error) puts the image back to queued with no data: an image is never active with half its bytes.
 */
export async function uploadImage(service: ImageService, caller: Caller, id: string, data: Readable, contentLength: number | null, storeId?: string): Promise<void> {
  // Unified-limit quotas come first in Glance, then X-Image-Meta-Store.
  await service.quotas.enforce(caller.project, { image_size_total: 0 });
  const target = writableStore(service, storeId ?? service.stores.defaultId);
  const image = await service.getMutable(caller, id, 'You are not permitted to upload data for this image.');
  if (image.status !== 'queued') throw conflict(`Image status transition from ${image.status} to saving is not allowed`);
  const missing = [image.diskFormat ? null : 'disk_format', image.containerFormat ? null : 'container_format'].filter((k) => k !== null);
  if (missing.length) throw badRequest(`${missing.length > 1 ? 'Properties' : 'Property'} ${missing.join(', ')} must be set prior to saving data.`);
  let limit = service.config.image_size_cap;
  if (service.config.user_storage_quota > 0 && image.owner) {
    limit = Math.min(limit, Math.max(0, service.config.user_storage_quota - (await service.repo.usedBytes(image.owner))));
  }
  if (contentLength !== null && contentLength > limit) throw tooLarge(limit);
  if (!(await service.repo.transition(id, ['queued'], { status: 'saving', updated_at: service.now() }))) {
    throw conflict('Image status transition from saving to saving is not allowed');
  }
  try {
    // This upload counts itself: over the limit means more uploads in flight than allowed.
    await service.quotas.enforce(caller.project, { image_count_uploading: 0 });
  } catch (err) {
    await service.repo.transition(id, ['saving'], { status: 'queued', updated_at: service.now() });
    throw err;
  }
  const digest = new Digest(limit, contentLength);
  const store = target.store;
  // A short body or quota error can fail the digest before the store has attached its pipeline
  // (which still sees the error: a destroyed stream rejects it); until then, nobody else listens.
  digest.on('error', () => {});
  try {
    data.on('error', (err) => digest.destroy(err));
    data.on('aborted', () => digest.destroy(new Error('upload interrupted')));
    // A client that left while the database was answering fired its events before anyone listened.
    if (data.destroyed && !data.readableEnded) queueMicrotask(() => digest.destroy(new Error('upload interrupted')));
    await store.put(id, data.pipe(digest));
  } catch (err) {
    await service.repo.transition(id, ['saving'], { status: 'queued', updated_at: service.now() });
    throw err instanceof CloudError ? err : new CloudError('bad_request', 'Error in store configuration or the upload was interrupted; the image data was not saved.');
  }
  const activated = await service.repo.transition(id, ['saving'], {
    status: 'active',
    size: digest.size,
    checksum: digest.digests.checksum,
    os_hash_algo: digest.digests.osHashAlgo,
    os_hash_value: digest.digests.osHashValue,
    virtual_size: digest.inspector.virtualSize(image.diskFormat),
    locations: JSON.stringify([service.stores.locationFor(target.id, id)]),
    updated_at: service.now(),
  });
  if (!activated) {
    // Deleted while uploading: the bytes belong to nobody.
    await store.delete(id);
    throw new CloudError('gone', `Image ${id} could not be found after upload. The image may have been deleted during the upload.`);
  }
  service.deps.events.publish('image.upload', { id, size: digest.size });
  service.deps.events.publish('image.activate', { id });
}

/** The store an upload may write to: 400 for an unknown id (glance_store's UnknownScheme), 410 for a read-only one. */
export function writableStore(service: ImageService, storeId: string): StoreEntry {
  const entry = service.stores.find(storeId);
  if (!entry) throw badRequest(`Store for identifier ${storeId} not found`);
  if (entry.readOnly) throw new CloudError('gone', 'Error in store configuration. Adding images to store is disabled.');
  return entry;
}

/** The first location an enabled store can serve (Glance's location strategy: the stored order). */
export function readableCopy(service: ImageService, image: Image): { store: ImageStore; key: string } | null {
  for (const location of image.locations) {
    const found = service.stores.resolve(location);
    if (found) return { store: found.entry.store, key: found.key };
  }
  return null;
}

export interface Download {
  status: 200 | 204 | 206;
  stream?: Readable;
  headers: Record<string, string>;
}

/** GET /v2/images/{id}/file, with Range; 204 for an image without data, as Glance. */
export async function downloadImage(service: ImageService, caller: Caller, image: Image, rangeHeader: string | undefined): Promise<Download> {
  if (image.status === 'deactivated' && !caller.isAdmin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  const found = image.size === null ? null : readableCopy(service, image);
  if (!found || image.size === null) return { status: 204, headers: {} };
  const { store, key } = found;
  const size = image.size;
  const range = rangeHeader ? parseRange(rangeHeader, size) : null;
  if (range) {
    const stream = (await service.cache?.open(image, range)) ?? (await store.get(key, range));
    return {
      status: 206,
      stream,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${size}` },
    };
  }
  const cached = await service.cache?.open(image);
  const stream = cached ?? (service.cache ? service.cache.fill(image, await store.get(key)) : await store.get(key));
  return {
    status: 200,
    stream,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), ...(image.checksum ? { 'content-md5': image.checksum } : {}) },
  };
}

/** One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); 416 when it cannot be served. */
export function parseRange(header: string, size: number): ByteRange {
  const unsatisfiable = new CloudError('unprocessable', 'Requested range not satisfiable', { status: 416, size });
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw unsatisfiable;
  return { start, end };
}
