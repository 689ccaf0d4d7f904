import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { CloudError, conflict, forbidden } from '../../common/errors.js';
import type { Caller } from './caller.js';
import { VirtualSizeInspector } from './formats/virtual-size.js';
import type { Image } from './model/image.js';
import { keyOf, locationOf, type ImageService } from './service.js';
import type { ByteRange } from './stores/types.js';

/** Hashes (md5 + sha512), counts and inspects bytes as they stream to the store; refuses more than `limit`. */
class Digest extends Transform {
  readonly md5 = createHash('md5');
  readonly sha512 = createHash('sha512');
  readonly inspector = new VirtualSizeInspector();
  size = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) return done(tooLarge(this.limit));
    this.md5.update(chunk);
    this.sha512.update(chunk);
    this.inspector.update(chunk);
    done(null, chunk);
  }
}

const tooLarge = (limit: number): CloudError => new CloudError('payload_too_large', `Image exceeds the storage quota: The size of the data exceeds the limit: ${limit} bytes remaining.`);

/**
 * PUT /v2/images/{id}/file: queued -> saving -> active. Any failure (client gone, quota, store
 * error) puts the image back to queued with no data: an image is never active with half its bytes.
 */
export async function uploadImage(service: ImageService, caller: Caller, id: string, data: Readable, contentLength: number | null): Promise<void> {
  const image = await service.getMutable(caller, id, 'You are not permitted to upload data for this image.');
  if (image.status !== 'queued') throw conflict(`Image status transition from ${image.status} to saving is not allowed`);
  let limit = service.config.image_size_cap;
  if (service.config.user_storage_quota > 0 && image.owner) {
    limit = Math.min(limit, Math.max(0, service.config.user_storage_quota - (await service.repo.usedBytes(image.owner))));
  }
  if (contentLength !== null && contentLength > limit) throw tooLarge(limit);
  if (!(await service.repo.transition(id, ['queued'], { status: 'saving', updated_at: service.now() }))) {
    throw conflict('Image status transition from saving to saving is not allowed');
  }
  const digest = new Digest(limit);
  const store = service.store;
  try {
    data.on('error', (err) => digest.destroy(err));
    data.on('aborted', () => digest.destroy(new Error('upload interrupted')));
    await store.put(id, data.pipe(digest));
  } catch (err) {
    await service.repo.transition(id, ['saving'], { status: 'queued', updated_at: service.now() });
    throw err instanceof CloudError ? err : new CloudError('bad_request', 'Error in store configuration or the upload was interrupted; the image data was not saved.');
  }
  const activated = await service.repo.transition(id, ['saving'], {
    status: 'active',
    size: digest.size,
    checksum: digest.md5.digest('hex'),
    os_hash_algo: 'sha512',
    os_hash_value: digest.sha512.digest('hex'),
    virtual_size: digest.inspector.virtualSize(image.diskFormat),
    location: locationOf(store, id),
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

export interface Download {
  status: 200 | 204 | 206;
  stream?: Readable;
  headers: Record<string, string>;
}

/** GET /v2/images/{id}/file, with Range; 204 for an image without data, as Glance. */
export async function downloadImage(service: ImageService, caller: Caller, image: Image, rangeHeader: string | undefined): Promise<Download> {
  if (image.status === 'deactivated' && !caller.isAdmin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  if (!image.location || image.size === null) return { status: 204, headers: {} };
  const key = keyOf(image.location);
  if (!key) return { status: 204, headers: {} };
  const size = image.size;
  const range = rangeHeader ? parseRange(rangeHeader, size) : null;
  if (range) {
    const stream = await service.store.get(key, range);
    return {
      status: 206,
      stream,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${size}` },
    };
  }
  const stream = await service.store.get(key);
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
