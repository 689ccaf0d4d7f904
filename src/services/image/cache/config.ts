import { opt } from '../../../common/config/options.js';

/** glance-api.conf's image cache options (the `cachemanagement` paste flavor plus [DEFAULT] image_cache_*). */
export const CACHE_OPTIONS = {
  image_cache_enabled: opt.boolean(true, 'Local image cache: /v2/cache (admin only), a prefetcher for queued images, and downloads served from (and filling) the cache.'),
  image_cache_dir: opt.optionalString('Directory of the image cache ([DEFAULT] image_cache_dir); default <data_dir>/image-cache. Each API process needs its own.'),
  image_cache_max_size: opt.integer(10737418240, 'Most bytes the image cache holds ([DEFAULT] image_cache_max_size, 10 GiB); least recently used images are evicted, larger images are not cached.', { min: 0 }),
  cache_prefetcher_interval: opt.integer(300, 'Seconds between prefetcher sweeps of the cache queue ([DEFAULT] cache_prefetcher_interval); PUT /v2/cache/{id} starts one at once.', { min: 1 }),
} as const;
