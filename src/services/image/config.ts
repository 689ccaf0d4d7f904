import { opt } from '../../common/config/options.js';

/** glance-api.conf equivalents ([DEFAULT], [image_format], quotas). */
export const IMAGE_OPTIONS = {
  image_size_cap: opt.integer(1099511627776, 'Largest image upload accepted, in bytes ([DEFAULT] image_size_cap, 1 TiB). Larger uploads get 413 and the image stays queued.', { min: 1 }),
  user_storage_quota: opt.integer(0, 'Most bytes of image data one project may store; 0 is unlimited ([DEFAULT] user_storage_quota). Uploads past it get 413.', { min: 0 }),
  image_member_quota: opt.integer(128, 'Most members one image may have; -1 is unlimited ([DEFAULT] image_member_quota).', { min: -1 }),
  image_tag_quota: opt.integer(128, 'Most tags one image may have; -1 is unlimited ([DEFAULT] image_tag_quota).', { min: -1 }),
  image_property_quota: opt.integer(128, 'Most custom properties one image may have; -1 is unlimited ([DEFAULT] image_property_quota).', { min: -1 }),
  limit_param_default: opt.integer(25, 'Page size of image lists when the client gives no limit ([DEFAULT] limit_param_default).', { min: 1 }),
  api_limit_max: opt.integer(1000, 'Largest page size a client may ask for ([DEFAULT] api_limit_max).', { min: 1 }),
  store: opt.string('file', 'Backend image data is written to. `file` keeps it under <data_dir>/images.', { choices: ['file'] }),
} as const;
