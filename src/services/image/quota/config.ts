import { opt } from '../../../common/config/options.js';

/** Per-project quotas from Keystone's unified limits ([DEFAULT] use_keystone_limits). */
export const QUOTA_OPTIONS = {
  use_keystone_limits: opt.boolean(false, 'Enforce image_size_total (MiB), image_count_total, image_stage_total (MiB) and image_count_uploading from Keystone\'s limits and registered limits of the `image` service ([DEFAULT] use_keystone_limits). A resource without any limit is then limited to 0, as oslo.limit does.'),
} as const;
