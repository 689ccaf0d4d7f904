import { opt, type Schema, type SchemaValues } from './options.js';
import { IDENTITY_OPTIONS } from '../../services/identity/config.js';
import { OBJECT_STORE_OPTIONS } from '../../services/object-store/config.js';
import { IMAGE_OPTIONS } from '../../services/image/config.js';

/**
 * Every option Nubes reads. Sections map to `nubes.yaml` top-level keys and to
 * environment variables NUBES_<SECTION>_<OPTION> (upper-cased).
 */
export const CONFIG_SCHEMA = {
  server: {
    bind: opt.string('127.0.0.1:8000', 'host:port the single HTTP listener binds to. Every API is served on it under its own path prefix.'),
    public_url: opt.optionalString('Base URL written into the service catalog and clouds.yaml. Defaults to http://<bind>.'),
    data_dir: opt.string('./.nubes', 'Directory holding all local state: the SQLite database, Fernet keys, clouds.yaml and service data.'),
    region: opt.string('RegionOne', 'Region name registered in the catalog on first start.'),
    shutdown_grace_seconds: opt.integer(10, 'How long SIGINT/SIGTERM waits for in-flight requests before closing connections.', { min: 0 }),
    body_limit_bytes: opt.integer(1048576, 'Largest JSON request body accepted by the control-plane APIs (bytes).', { min: 1024 }),
    services: opt.string('', 'Services this process serves, comma-separated registry names (e.g. `image`); empty: all. Identity is always served: the other APIs validate tokens in-process against it.'),
    join: opt.boolean(false, 'Join a cloud another `nubes start` already serves from the same data directory and database, as an extra API process (e.g. a second image worker): no clouds.yaml is written and no start-up clean-up that assumes this process is alone runs (image: uploads caught in saving, unreferenced store files). Give it its own bind, image.staging_dir and image.image_cache_dir, and leave object-store out of its services (the local object-store devices belong to the first process).'),
  },
  database: {
    url: opt.optionalString('Database URL. Empty: SQLite at <data_dir>/nubes.sqlite. postgres://user:pw@host/db moves all control-plane state and the job queue to PostgreSQL.', { secret: true }),
    pool_size: opt.integer(10, 'PostgreSQL connection pool size.', { min: 1, max: 200 }),
  },
  log: {
    level: opt.string('info', 'Log level.', { choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
    access_log: opt.boolean(true, 'Log one line per request with method, path, status and duration.'),
  },
  policy: {
    policy_file: opt.optionalString('Path of an oslo.policy-style YAML/JSON file whose rules override the defaults in code, for every service.'),
    enforce_scope: opt.boolean(false, 'Deny tokens whose scope (system/domain/project) is not among a rule\'s scope types.'),
  },
  jobs: {
    poll_interval_ms: opt.integer(500, 'How often idle workers look for new jobs when no in-process wake-up arrived.', { min: 10 }),
    lease_seconds: opt.integer(60, 'How long a claimed job stays leased before another worker may take it over.', { min: 1 }),
    max_attempts: opt.integer(5, 'Attempts before a job is marked failed.', { min: 1 }),
  },
  identity: IDENTITY_OPTIONS,
  object_store: OBJECT_STORE_OPTIONS,
  image: IMAGE_OPTIONS,
} as const satisfies Schema;

export type Config = SchemaValues<typeof CONFIG_SCHEMA>;
