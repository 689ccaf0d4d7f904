import type { Logger } from '../../../common/log.js';
import { readableCopy } from '../data.js';
import type { ImageService } from '../service.js';
import type { ImageCache } from './image-cache.js';

/**
 * Glance's cache prefetcher: copies queued images into the local cache. A sweep runs at start,
 * every `intervalMs`, and as soon as an image is queued; sweeps never overlap. The queue lives in
 * the cache directory, so what was queued before a restart is fetched after it.
 */
export class CachePrefetcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly cache: ImageCache,
    private readonly service: ImageService,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Starts a sweep now, or right after the one in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.sweep()
      .catch((err: unknown) => this.log.warn({ err }, 'image cache prefetch sweep failed'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
          return;
        }
        this.timer = setTimeout(() => this.kick(), this.intervalMs);
        this.timer.unref();
      });
  }

  /** One pass over the queue; resolves when every queued image was cached or given up on. */
  async sweep(): Promise<void> {
    for (const id of await this.cache.queued()) {
      if (this.stopped) return;
      await this.fetch(id);
    }
  }

  private async fetch(id: string): Promise<void> {
    const image = await this.service.repo.find(id);
    // Deleted or no longer active images leave the queue (Glance's prefetcher skips them too).
    if (!image || image.status !== 'active' || image.size === null || (await this.cache.isCached(id))) {
      await this.cache.dequeue(id);
      return;
    }
    const copy = readableCopy(this.service, image);
    if (!copy) {
      this.log.warn({ image: id }, 'queued image has no readable location; left in the cache queue');
      return;
    }
    try {
      const data = await copy.store.get(copy.key);
      const cached = await this.cache.store(id, data, { size: image.size, checksum: image.checksum });
      if (cached || (await this.cache.isCached(id))) await this.cache.dequeue(id);
      else if (image.size > this.cache.maxSize) await this.cache.dequeue(id);
      this.log.info({ image: id, cached }, 'prefetched image into the cache');
    } catch (err) {
      // Left queued: the next sweep tries again.
      this.log.warn({ err, image: id }, 'prefetching an image into the cache failed');
    }
  }
}
