import { isAbsolute, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { CloudError } from '../../../common/errors.js';
import { FilesystemImageStore } from '../stores/filesystem.js';

/**
 * The staging area (Glance's os_glance_staging_store): one file per image under
 * image.staging_dir, written like the filesystem store (temp file, fsync, rename).
 * It belongs to the process that wrote it; os_glance_stage_host says which one that is.
 */
export function stagingStore(dataDir: string, dir: string): FilesystemImageStore {
  return new FilesystemImageStore(isAbsolute(dir) ? dir : join(dataDir, dir));
}

/** Counts bytes and refuses more than `limit` (Glance's LimitingReader on image_size_cap). */
export class SizeLimit extends Transform {
  size = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) return done(new CloudError('payload_too_large', `The incoming image is too large: image size exceeds the limit of ${this.limit} bytes.`));
    done(null, chunk);
  }
}


/** Pipes `data` through `transform`, passing the source's errors and aborts along. */
export function through<T extends Transform>(data: Readable, transform: T): T {
  // Until the store attaches its pipeline nobody listens on `transform`; the pipeline still sees
  // the error then (a destroyed stream rejects it), so an early one must not go unhandled.
  transform.on('error', () => undefined);
  data.on('error', (err) => transform.destroy(err));
  data.on('aborted', () => transform.destroy(new Error('upload interrupted')));
  // The client may have gone while the request waited on the database: its events are past.
  if (data.destroyed && !data.readableEnded) queueMicrotask(() => transform.destroy(new Error('upload interrupted')));
  return data.pipe(transform);
}
