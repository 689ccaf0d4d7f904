import { opt } from '../../common/config/options.js';
import { CACHE_OPTIONS } from './cache/config.js';
import { LOCATION_OPTIONS } from './locations/config.js';
import { QUOTA_OPTIONS } from './quota/config.js';

/** glance-api.conf equivalents ([DEFAULT], [image_format], quotas). */
export const IMAGE_OPTIONS = {
  image_size_cap: opt.integer(1099511627776, 'Largest image upload accepted, in bytes ([DEFAULT] image_size_cap, 1 TiB). Larger uploads get 413 and the image stays queued.', { min: 1 }),
  user_storage_quota: opt.integer(0, 'Most bytes of image data one project may store; 0 is unlimited ([DEFAULT] user_storage_quota). Uploads past it get 413.', { min: 0 }),
  image_member_quota: opt.integer(128, 'Most members one image may have; -1 is unlimited ([DEFAULT] image_member_quota).', { min: -1 }),
  image_tag_quota: opt.integer(128, 'Most tags one image may have; -1 is unlimited ([DEFAULT] image_tag_quota).', { min: -1 }),
  image_property_quota: opt.integer(128, 'Most custom properties one image may have; -1 is unlimited ([DEFAULT] image_property_quota).', { min: -1 }),
  limit_param_default: opt.integer(25, 'Page size of image lists when the client gives no limit ([DEFAULT] limit_param_default).', { min: 1 }),
  api_limit_max: opt.integer(1000, 'Largest page size a client may ask for ([DEFAULT] api_limit_max).', { min: 1 }),
  // ---- stores (multi-store, as Glance's enabled_backends) and interoperable import ----
  enabled_backends: opt.string('file:file', 'Image stores as comma-separated <id>:<type> pairs ([DEFAULT] enabled_backends). Types: `file` (a directory; <data_dir>/images for id `file`, <data_dir>/images-<id> otherwise) and `swift` (Nubes\' own object storage, used through its Swift API as the service user below).'),
  default_backend: opt.string('file', 'Store that uploads and imports use when the request names none ([glance_store] default_backend); must be one of enabled_backends.'),
  store_descriptions: opt.string('', 'Descriptions GET /v2/info/stores shows, as <id>=<text> pairs separated by `;` (each store\'s store_description). Stores without one get a description of their type.'),
  filesystem_store_datadirs: opt.string('', 'Directories of file stores as <id>=<path> pairs separated by `;` (each store\'s filesystem_store_datadir); relative paths are under <data_dir>.'),
  swift_store_container: opt.string('glance', 'Container of the service account that swift stores keep images in ([glance_store] swift_store_container); segments go to <container>_segments.'),
  swift_store_large_object_chunk_size: opt.integer(200, 'Segment size of images in swift stores, in MiB (swift_store_large_object_chunk_size); every image is a static large object of such segments.', { min: 1, max: 5120 }),
  swift_store_user: opt.string('glance', 'Service user swift stores authenticate as (swift_store_user).'),
  swift_store_project: opt.string('service', 'Project of that user; its Swift account holds the images.'),
  swift_store_key: opt.optionalString('Password of the swift store user (swift_store_key). Unset: a password is generated into <data_dir>/image-swift-password and the user is created (or its password reset) through the Identity API with the bootstrap admin. Set it when several processes share one database.', { secret: true }),
  enabled_import_methods: opt.string('glance-direct,web-download,copy-image,glance-download', 'Import methods GET /v2/info/import announces and POST /v2/images/{id}/import accepts ([DEFAULT] enabled_import_methods). web-download and glance-download only ever reach loopback addresses.'),
  worker_self_reference_url: opt.optionalString('URL of this process recorded as os_glance_stage_host on staged images ([DEFAULT] worker_self_reference_url); defaults to server.public_url or http://<bind>. glance-direct imports and staged-data deletes run on the process that staged.'),
  staging_dir: opt.string('image-staging', 'Directory of this process\'s staging area, where PUT /stage writes and imports fetch to ([os_glance_staging_store] filesystem_store_datadir); relative paths are under <data_dir>. Each API process needs its own (see server.join).'),
  task_time_to_live: opt.integer(48, 'Hours a finished import task stays visible in /v2/tasks before it is purged ([task] task_time_to_live).', { min: 1 }),
  glance_download_properties: opt.string('hw_,trait:,os_distro,os_secure_boot,os_type', 'Property prefixes glance-download copies from the source image ([glance_download_properties] extra_properties).'),
  ...LOCATION_OPTIONS,
  ...CACHE_OPTIONS,
  ...QUOTA_OPTIONS,
} as const;
