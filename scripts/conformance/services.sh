# shellcheck shell=bash
# The conformance table: one function per service, sourced by scripts/conformance.sh.
#
# To add a service (e.g. image), copy svc_identity to svc_image, adjust it, and
# add the name to CONFORMANCE_SERVICES. Each function sets:
#
#   SVC_LIST             Tempest list in $SHARED/conformance/lists/ that a full run uses
#   SVC_TEMPEST_SERVICES make-tempest-conf.py --services (which service_available flags are on)
#   SVC_PROFILE          make-tempest-conf.py --profile (minimal|full)
#   SVC_TEMPEST_SET      array of section.option=value for tempest.conf (--set, applied last)
#   SVC_TEMPEST_ARGS     array of other make-tempest-conf.py arguments (--image-ref ..., --flavor-ref ...)
#   SVC_SERVER_ENV       array of NAME=value given to `nubes start` (config is NUBES_<SECTION>_<OPTION>)
#   SVC_SERVER_ARGS      array of extra `nubes start` flags
#   SVC_CONCURRENCY      tempest workers (run.sh -c)
#   SVC_TIMEOUT          whole-run limit in seconds (run.sh -T); unfinished tests count as failed
#   SVC_REMOTE_ARGS      optional: flags of a second process, `nubes start --join` on the same data
#                        dir and database (another port); empty: no second process
#   SVC_REMOTE_CATALOG   (type name path): the catalog entry registered for that second process
#
# The committed pass list is always conformance/<service>-pass.txt.

CONFORMANCE_SERVICES=(identity image object_storage)

svc_identity() {
  SVC_LIST=identity.txt
  SVC_TEMPEST_SERVICES=identity
  # full: trusts, project tags, application credentials and access rules are tested
  SVC_PROFILE=full
  SVC_TEMPEST_SET=(
    # Keystone v2.0 is gone (Queens); its 97 tests skip
    identity-feature-enabled.api_v2=False
    identity-feature-enabled.api_v2_admin=False
    identity-feature-enabled.api_v3=True
    # PCI-DSS options, as DevStack enables them. The numbers must equal the
    # server's identity.* settings in SVC_SERVER_ENV below.
    identity-feature-enabled.security_compliance=True
    identity.user_lockout_failure_attempts=2
    identity.user_lockout_duration=5
    identity.user_unique_last_password_count=2
    # one identity backend, users are writable
    identity-feature-enabled.domain_specific_drivers=False
    identity-feature-enabled.immutable_user_source=False
  )
  SVC_TEMPEST_ARGS=()
  SVC_SERVER_ENV=(
    NUBES_IDENTITY_LOCKOUT_FAILURE_ATTEMPTS=2
    NUBES_IDENTITY_LOCKOUT_DURATION=5
    NUBES_IDENTITY_UNIQUE_LAST_PASSWORD_COUNT=2
    NUBES_IDENTITY_MINIMUM_PASSWORD_AGE=0
    # Tempest creates a user per test class; cost 12 bcrypt makes that slow
    # (the reference Keystone run used 4 as well).
    NUBES_IDENTITY_PASSWORD_HASH_ROUNDS=4
  )
  SVC_SERVER_ARGS=()
  SVC_CONCURRENCY=2
  # the reference Keystone needed ~15 min for the 235 tests at -c 2 on this kind of machine
  SVC_TIMEOUT=2700
}

svc_image() {
  SVC_LIST=image.txt
  # Tempest needs Keystone to create its dynamic projects; image is what is measured.
  SVC_TEMPEST_SERVICES=identity,image
  SVC_PROFILE=minimal
  SVC_TEMPEST_SET=(
    image-feature-enabled.api_v2=True
    image-feature-enabled.api_v1=False
    # interoperable import: glance-direct, web-download (loopback only), copy-image, glance-download
    image-feature-enabled.import_image=True
    # os_glance_* properties are reserved (403), as Glance Zed
    image-feature-enabled.os_glance_reserved=True
    # the reference Glance's settings (shared/conformance/README.md): locations and the cache
    image-feature-enabled.manage_locations=True
    image.image_caching_enabled=True
    # a loopback URL with data for the http-store location tests (the reference used Swift's healthcheck)
    image.http_image=@URL@/healthcheck
    # test_remote_import/test_remote_delete: the second image process below, as DevStack's glance_remote
    image.alternate_image_endpoint=image_remote
    image.alternate_image_endpoint_type=publicURL
  )
  SVC_TEMPEST_ARGS=()
  SVC_SERVER_ENV=(
    NUBES_IDENTITY_PASSWORD_HASH_ROUNDS=4
    # as the reference Glance: two file stores, plus the read-only http store for locations
    NUBES_IMAGE_ENABLED_BACKENDS=local:file,local2:file,web:http
    NUBES_IMAGE_DEFAULT_BACKEND=local
    NUBES_IMAGE_SHOW_MULTIPLE_LOCATIONS=true
  )
  SVC_SERVER_ARGS=()
  # a second image API worker: same database, stores and Fernet keys, its own staging area and
  # cache; it records itself as os_glance_stage_host (its own URL) on what it stages
  SVC_REMOTE_ARGS=(--services image --set image.staging_dir=image-staging-remote --set image.image_cache_dir=image-cache-remote)
  SVC_REMOTE_CATALOG=(image_remote glance_remote /image)
  SVC_CONCURRENCY=2
  SVC_TIMEOUT=1800
}

svc_object_storage() {
  SVC_LIST=object-storage.txt
  # make-tempest-conf.py's name for the object-store catalog type
  SVC_TEMPEST_SERVICES=identity,object-storage
  SVC_PROFILE=minimal
  SVC_TEMPEST_SET=(
    # Swift's keystoneauth: member owns its project's account; ResellerAdmin acts on every account
    object-storage.operator_role=member
    object-storage.reseller_admin_role=ResellerAdmin
    # container sync: DevStack's realm and cluster names (Tempest's defaults), served by the
    # server's own realm below; the daemon runs every 2 s, Tempest polls every 2 s for up to 120 s.
    # (The old-style ContainerSyncTest stays skipped by Tempest itself: skip_because bug 1317133.)
    object-storage-feature-enabled.container_sync=True
    object-storage.realm_name=realm1
    object-storage.cluster_name=name1
    object-storage.container_sync_interval=2
    object-storage.container_sync_timeout=120
    # discoverable_apis comes from GET /object-store/info (make-tempest-conf.py reads it)
    object-storage-feature-enabled.discoverability=True
  )
  SVC_TEMPEST_ARGS=()
  SVC_SERVER_ENV=(
    NUBES_IDENTITY_PASSWORD_HASH_ROUNDS=4
    # container-sync-realms.conf as DevStack writes it; "self" is this server's own Swift API
    "NUBES_OBJECT_STORE_CONTAINER_SYNC_REALMS=realm1: key=conformance-realm-key cluster_name1=self"
    NUBES_OBJECT_STORE_CONTAINER_SYNC_INTERVAL=2
  )
  SVC_SERVER_ARGS=()
  SVC_CONCURRENCY=2
  SVC_TIMEOUT=2700
}
