import type { ServiceDeps } from '../../../common/service.js';
import type { Image } from '../model/image.js';

/**
 * `locations` (show_multiple_locations: every location, [] while there is none) and `direct_url`
 * (show_image_direct_url: the first one, when there is one), as Glance's serializer adds them.
 */
export function withLocations(view: Record<string, unknown>, image: Image, config: ServiceDeps['config']['image']): Record<string, unknown> {
  if (!config.show_multiple_locations && !config.show_image_direct_url) return view;
  const extra: Record<string, unknown> = {};
  if (config.show_multiple_locations) extra.locations = image.locations.map((l) => ({ url: l.url, metadata: l.metadata }));
  const first = image.locations[0];
  if (config.show_image_direct_url && first) extra.direct_url = first.url;
  return { ...view, ...extra };
}
