import type { ObjectStoreService } from '../service.js';
import { SYMLOOP_MAX } from './symlink.js';

/** GET /info: the capabilities Swift's proxy advertises (register_swift_info); only what this implementation does. */
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
    bulk_delete: { max_deletes_per_request: c.max_deletes_per_request, max_failed_deletes: 1000 },
    bulk_upload: { max_containers_per_extraction: 10000, max_failed_extractions: 1000 },
    formpost: { allowed_digests: ['sha1', 'sha256', 'sha512'], deprecated_digests: ['sha1'] },
    versioned_writes: { allowed_flags: ['x-versions-location', 'x-history-location'] },
    symlink: { symloop_max: SYMLOOP_MAX, static_links: true },
    staticweb: {},
    crossdomain: {},
    container_sync: { realms: syncRealmsInfo(service) },
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
      deprecated_digests: ['sha1'],
    },
  };
}

/** container_sync's realms as Swift lists them: upper-cased names, clusters without their endpoints. */
function syncRealmsInfo(service: ObjectStoreService): Record<string, { clusters: Record<string, Record<string, never>> }> {
  const out: Record<string, { clusters: Record<string, Record<string, never>> }> = {};
  for (const realm of service.syncRealms.values()) {
    if (realm.clusters.size === 0) continue;
    out[realm.name] = { clusters: Object.fromEntries([...realm.clusters.keys()].map((c) => [c, {}])) };
  }
  return out;
}
