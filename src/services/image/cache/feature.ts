import { join, isAbsolute } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import type { ServiceDeps } from '../../../common/service.js';
import type { Image } from '../model/image.js';
import type { ImageService } from '../service.js';
import type { ByteRange } from '../stores/types.js';
import { ImageCache } from './image-cache.js';
import { CachePrefetcher } from './prefetcher.js';

/**
 * The image cache as the rest of the service uses it: the cache and its prefetcher when
 * image_cache_enabled is on (null otherwise), dropped entries when images are deleted, and the
 * two hooks of a download (serve from the cache, fill it on the way out).
 */
export class ImageCacheFeature {
  readonly cache: ImageCache | null;
  readonly prefetcher: CachePrefetcher | null;
  private unsubscribe: (() => void) | null = null;

  constructor(service: ImageService, private readonly deps: ServiceDeps) {
    const cfg = deps.config.image;
    if (!cfg.image_cache_enabled) {
      this.cache = null;
      this.prefetcher = null;
      return;
    }
    const dir = cfg.image_cache_dir ?? 'image-cache';
    const root = isAbsolute(dir) ? dir : join(deps.config.server.data_dir, dir);
    this.cache = new ImageCache(root, cfg.image_cache_max_size, deps.log, () => deps.clock.now());
    this.prefetcher = new CachePrefetcher(this.cache, service, deps.log, cfg.cache_prefetcher_interval * 1000);
  }

  async start(): Promise<void> {
    const cache = this.cache;
    if (!cache) return;
    await cache.init();
    // A deleted image's cached copy and queue entry go with it (Glance's cache middleware does this on DELETE).
    this.unsubscribe = this.deps.events.subscribe('image.delete', async (n) => {
      const id = String(n.payload.id);
      await cache.delete(id);
      await cache.dequeue(id);
    });
    this.prefetcher?.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.prefetcher?.stop();
  }

  /** The image's bytes from the cache, when it holds them. */
  async open(image: Image, range?: ByteRange): Promise<Readable | null> {
    return this.cache ? this.cache.open(image.id, range) : null;
  }

  /** Wraps a full download from a store so that the cache keeps a copy once it went through whole. */
  fill(image: Image, stream: Readable): Readable {
    if (!this.cache || image.size === null || image.size > this.cache.maxSize) return stream;
    // pipeline, not pipe: a store error ends the response, a client that leaves closes the store stream.
    return pipeline(stream, this.cache.tee(image.id, { size: image.size, checksum: image.checksum }), () => undefined);
  }
}
