import { opt } from '../../common/config/options.js';

/**
 * proxy-server.conf / swift.conf equivalents: [swift-constraints], [filter:keystoneauth],
 * [app:proxy-server]. The storage layout options (devices, rings) live with the cluster.
 */
export const OBJECT_STORE_OPTIONS = {
  backend: opt.string('local', 'Where objects live: "local" (rings and devices under <data_dir>/object-store, durable) or "memory" (lost on restart; only for tests).', { choices: ['memory', 'local'] }),
  max_file_size: opt.integer(5368709122, 'Largest object accepted in one PUT, bytes ([swift-constraints] max_file_size); larger ones are refused with 413. Use segments (DLO/SLO) beyond it.', { min: 1 }),
  container_listing_limit: opt.integer(10000, 'Default and largest `limit` of a container listing ([swift-constraints] container_listing_limit).', { min: 1 }),
  account_listing_limit: opt.integer(10000, 'Default and largest `limit` of an account listing ([swift-constraints] account_listing_limit).', { min: 1 }),
  max_meta_name_length: opt.integer(128, 'Longest metadata name after the X-*-Meta- prefix ([swift-constraints] max_meta_name_length).', { min: 1 }),
  max_meta_value_length: opt.integer(256, 'Longest metadata value ([swift-constraints] max_meta_value_length).', { min: 1 }),
  max_meta_count: opt.integer(90, 'Most metadata items per request ([swift-constraints] max_meta_count).', { min: 1 }),
  max_meta_overall_size: opt.integer(4096, 'Largest sum of metadata names and values per request ([swift-constraints] max_meta_overall_size).', { min: 1 }),
  max_object_name_length: opt.integer(1024, 'Longest object name in bytes ([swift-constraints] max_object_name_length).', { min: 1 }),
  max_container_name_length: opt.integer(256, 'Longest container name in bytes ([swift-constraints] max_container_name_length).', { min: 1 }),
  max_account_name_length: opt.integer(256, 'Longest account name in bytes ([swift-constraints] max_account_name_length).', { min: 1 }),
  operator_roles: opt.string('admin,member', 'Roles (comma-separated) that make a project-scoped token the owner of AUTH_<project_id> ([filter:keystoneauth] operator_roles).'),
  reseller_admin_role: opt.string('ResellerAdmin', 'Role that may act on every account ([filter:keystoneauth] reseller_admin_role).'),
  max_manifest_segments: opt.integer(1000, 'Most segments in a static large object manifest ([filter:slo] max_manifest_segments).', { min: 1 }),
  max_manifest_size: opt.integer(8388608, 'Largest SLO manifest body accepted, bytes ([filter:slo] max_manifest_size).', { min: 1024 }),
  max_deletes_per_request: opt.integer(10000, 'Most names one bulk-delete request may carry ([filter:bulk] max_deletes_per_request).', { min: 1 }),
  tempurl_methods: opt.string('GET,HEAD,PUT,POST,DELETE', 'Methods a temporary URL may be signed for ([filter:tempurl] methods).'),
  // ---- storage layout (backend "local"): rings, devices, daemons ----
  replicas: opt.integer(1, 'Replicas of every object, container and account database when the rings are first created (Swift\'s ring replica count). Writes succeed once replicas/2+1 are durable. Existing ring files win; change them with `nubes ring`.', { min: 1, max: 16 }),
  devices: opt.string('', 'Comma-separated device directories for newly created rings; empty: <data_dir>/object-store/devices/d0..d<replicas-1>. Each device gets its own zone, so replicas land on distinct devices.'),
  part_power: opt.integer(10, 'Partition power of newly created rings: 2^part_power partitions (swift-ring-builder create <part_power>).', { min: 0, max: 24 }),
  replicator_interval: opt.integer(30, 'Seconds between object/database replicator passes (0 disables).', { min: 0 }),
  auditor_interval: opt.integer(3600, 'Seconds between auditor passes re-reading every object and quarantining corrupt ones (0 disables).', { min: 0 }),
  updater_interval: opt.integer(30, 'Seconds between updater passes replaying container updates that failed at write time (0 disables).', { min: 0 }),
  expirer_interval: opt.integer(60, 'Seconds between expirer passes deleting objects whose X-Delete-At has passed (0 disables).', { min: 0 }),
  // ---- container sync ([container-sync] and container-sync-realms.conf) ----
  container_sync_realms: opt.string('', 'Container sync realms, inline container-sync-realms.conf: `<realm>: key=<secret> [key2=<secret>] cluster_<name>=<endpoint> ...`, several realms separated by `;`. An endpoint is a Swift API base such as http://127.0.0.1:8000/object-store/v1/ and must be a loopback URL; `self` means this server (http://127.0.0.1:<bind port>/object-store/v1/). X-Container-Sync-To: //<realm>/<name>/<account>/<container> uses them.', { secret: true }),
  container_sync_allow_full_urls: opt.boolean(true, 'Accept full URLs (http://127.0.0.1:port/v1/AUTH_x/container) in X-Container-Sync-To besides realm values ([filter:container_sync] allow_full_urls). Only loopback hosts are ever accepted.'),
  container_sync_interval: opt.integer(300, 'Seconds between container-sync daemon passes ([container-sync] interval); 0 disables the daemon.', { min: 0 }),
  container_sync_container_time: opt.integer(60, 'Most seconds one pass spends on one container before moving on; the rest follows next pass ([container-sync] container_time).', { min: 1 }),
  storage_key: opt.string('', 'Shared secret between the proxy and `nubes agent storage` nodes (sent as X-Nubes-Storage-Key). Empty: agents only listen on and accept loopback addresses.', { secret: true }),
  node_timeout: opt.integer(10, 'Seconds to wait for a storage node to connect or make progress before its replica counts as missing ([app:proxy-server] node_timeout).', { min: 1 }),
  error_suppression_interval: opt.integer(10, 'Seconds a storage node that failed to answer is skipped (handoffs take its place) before it is tried again ([app:proxy-server] error_suppression_interval).', { min: 0 }),
} as const;
