import { opt } from '../../common/config/options.js';

/** keystone.conf equivalents: [token], [fernet_tokens], [identity], [security_compliance]. */
export const IDENTITY_OPTIONS = {
  admin_password: opt.optionalString('Password of the bootstrap `admin` user. Empty: generated on first start and kept in <data_dir>/admin-password.', { secret: true }),
  demo_password: opt.optionalString('Password of the bootstrap `demo` user. Empty: same as the admin password.', { secret: true }),
  token_expiration: opt.integer(3600, 'Token lifetime in seconds ([token] expiration).', { min: 60 }),
  allow_expired_window: opt.integer(172800, 'How long after expiry a token may still be validated with allow_expired=1 ([token] allow_expired_window).', { min: 0 }),
  allow_rescope_scoped_token: opt.boolean(true, 'Whether a scoped token may be exchanged for another scoped token ([token] allow_rescope_scoped_token).'),
  max_active_keys: opt.integer(3, 'Fernet keys kept in the key repository, staged and primary included ([fernet_tokens] max_active_keys).', { min: 2 }),
  password_hash_algorithm: opt.string('bcrypt', 'Password hash ([identity] password_hash_algorithm). bcrypt matches Keystone; scrypt is also accepted.', { choices: ['bcrypt', 'scrypt'] }),
  password_hash_rounds: opt.integer(12, 'bcrypt cost (log2 rounds) or scrypt log2(N) ([identity] password_hash_rounds).', { min: 4, max: 20 }),
  verified_password_cache_seconds: opt.integer(300, 'How long a successful password or application-credential secret check is remembered in memory (an HMAC under a per-process key, tied to the stored hash), so repeated logins skip the slow hash. 0: hash every time, as Keystone does.', { min: 0 }),
  max_password_length: opt.integer(4096, 'Longest password accepted ([identity] max_password_length).', { min: 8 }),
  list_limit: opt.optionalInteger('Largest number of entities a list returns; truncated lists set `truncated` ([identity] list_limit). Empty: unlimited.', { min: 1 }),
  validation_cache_seconds: opt.integer(30, 'How long a validated token is cached in-process. Revocations clear the cache at once.', { min: 0 }),
  lockout_failure_attempts: opt.optionalInteger('Failed password attempts before a user is locked ([security_compliance] lockout_failure_attempts). Empty: never.', { min: 1 }),
  lockout_duration: opt.integer(1800, 'Seconds a locked user stays locked ([security_compliance] lockout_duration).', { min: 1 }),
  password_expires_days: opt.optionalInteger('Days a password stays valid ([security_compliance] password_expires_days). Empty: forever.', { min: 1 }),
  unique_last_password_count: opt.integer(0, 'How many previous passwords may not be reused ([security_compliance] unique_last_password_count).', { min: 0 }),
  minimum_password_age: opt.integer(0, 'Days before a user may change their password again ([security_compliance] minimum_password_age).', { min: 0 }),
  password_regex: opt.optionalString('Regular expression new passwords must match ([security_compliance] password_regex).'),
  password_regex_description: opt.optionalString('Human description of password_regex, returned when a password is refused.'),
  change_password_upon_first_use: opt.boolean(false, 'Users created or reset by an admin must change their password first ([security_compliance] change_password_upon_first_use).'),
  max_redelegation_count: opt.integer(3, 'Longest chain of redelegated trusts; also the default redelegation_count of a redelegatable trust ([trust] max_redelegation_count).', { min: 0 }),
  application_credential_user_limit: opt.integer(-1, 'Most application credentials one user may hold; -1 is unlimited ([application_credential] user_limit).', { min: -1 }),
  disable_user_account_days_inactive: opt.optionalInteger('Disable users who have not authenticated for this many days. Empty: never.', { min: 1 }),
} as const;
