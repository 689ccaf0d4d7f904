import { opt } from '../../../common/config/options.js';

/** glance-api.conf's location options. */
export const LOCATION_OPTIONS = {
  show_multiple_locations: opt.boolean(false, 'Show `locations` on images and let owners add, replace and remove them with JSON-patch ([DEFAULT] show_multiple_locations). Users may only add locations of read-only (http) stores, and only loopback URLs.'),
  show_image_direct_url: opt.boolean(false, 'Show `direct_url`, the first location of an image ([DEFAULT] show_image_direct_url).'),
} as const;
