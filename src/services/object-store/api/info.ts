import type { ObjectStoreService } from '../service.js';

/** GET /info: the capabilities Swift's proxy advertises; only what this implementation does. */
export function swiftInfo(service: ObjectStoreService): Record<string, unknown> {
  const c = service.config;
  return {
    swift: {
      version: '2.30.1',
      strict_cors_mode: true,
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
      allow_account_management: false,
      account_autocreate: true,
      max_file_size: c.max_file_size,
      max_meta_name_length: c.max_meta_name_length,
      max_meta_value_length: c.max_meta_value_length,
      max_meta_count: c.max_meta_count,
      max_meta_overall_size: c.max_meta_overall_size,
      max_header_size: 8192,
      max_object_name_length: c.max_object_name_length,
      container_listing_limit: c.container_listing_limit,
      account_listing_limit: c.account_listing_limit,
      max_account_name_length: c.max_account_name_length,
      max_container_name_length: c.max_container_name_length,
      extra_header_count: 0,
      valid_api_versions: ['v1', 'v1.0'],
    },
    keystoneauth: {},
    account_quotas: {},
    container_quotas: {},
    slo: {
      max_manifest_segments: c.max_manifest_segments,
      max_manifest_size: c.max_manifest_size,
      yield_frequency: 10,
      min_segment_size: 1,
      allow_async_delete: false,
    },
    dlo: { max_segments: 10000 },
    tempurl: {
      methods: c.tempurl_methods.split(',').map((m) => m.trim()),
      incoming_remove_headers: ['x-timestamp'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: ['sha1', 'sha256', 'sha512'],
    },
  };
}
