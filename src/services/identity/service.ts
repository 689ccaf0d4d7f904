import { join } from 'node:path';
import type { ServiceDeps } from '../../common/service.js';
import type { IdentityTables } from './store/tables.js';
import { FernetKeyRepository, FernetTokenFormatter } from './token/index.js';
import type { IdentityCore } from './managers/core.js';
import { PasswordHasher } from './managers/password-hasher.js';
import { ResourceManager } from './managers/resource.js';
import { UserManager } from './managers/users.js';
import { RoleManager } from './managers/roles.js';
import { AssignmentManager } from './managers/assignments.js';
import { CatalogManager } from './managers/catalog.js';
import { RevocationManager } from './managers/revocations.js';
import { TokenProvider } from './managers/tokens.js';
import { AuthManager } from './managers/auth.js';
import { GroupManager } from './managers/groups.js';
import { CredentialManager } from './managers/credentials.js';
import { LimitManager } from './managers/limits.js';
import { ExtrasManager } from './managers/extras.js';
import { DomainConfigManager } from './managers/domain-configs.js';
import { AppCredManager } from './managers/app-creds.js';
import { TrustManager } from './managers/trusts.js';

/** The identity domain logic the routes call: one manager per Keystone area. */
export class IdentityService {
  readonly core: IdentityCore;
  readonly keys: FernetKeyRepository;
  readonly resource: ResourceManager;
  readonly users: UserManager;
  readonly roles: RoleManager;
  readonly assignments: AssignmentManager;
  readonly catalog: CatalogManager;
  readonly revocations: RevocationManager;
  readonly tokens: TokenProvider;
  readonly auth: AuthManager;
  readonly groups: GroupManager;
  readonly credentials: CredentialManager;
  readonly limits: LimitManager;
  readonly extras: ExtrasManager;
  readonly domainConfigs: DomainConfigManager;
  readonly appCreds: AppCredManager;
  readonly trusts: TrustManager;

  constructor(deps: ServiceDeps) {
    const { config } = deps;
    let tokens: TokenProvider | null = null;
    this.core = {
      db: deps.db.typed<IdentityTables>(),
      database: deps.db,
      config,
      clock: deps.clock,
      events: deps.events,
      log: deps.log.child({ service: 'identity' }),
      hasher: new PasswordHasher(config.identity.password_hash_algorithm as 'bcrypt' | 'scrypt', config.identity.password_hash_rounds, {
        ttlMs: config.identity.verified_password_cache_seconds * 1000,
        maxEntries: 10_000,
        now: () => deps.clock.now().getTime(),
      }),
      onRevocation: () => tokens?.clearCache(),
    };
    this.keys = new FernetKeyRepository(join(config.server.data_dir, 'fernet-keys'), config.identity.max_active_keys);
    this.keys.setup();
    this.resource = new ResourceManager(this.core);
    this.users = new UserManager(this.core);
    this.roles = new RoleManager(this.core);
    this.assignments = new AssignmentManager(this.core, this.resource, this.users, this.roles);
    this.catalog = new CatalogManager(this.core);
    this.revocations = new RevocationManager(this.core);
    this.resource.revocations = this.revocations;
    tokens = new TokenProvider(this.core, new FernetTokenFormatter(this.keys), this.resource, this.users, this.assignments, this.revocations);
    this.tokens = tokens;
    this.auth = new AuthManager(this.core, this.resource, this.users, this.tokens);
    this.groups = new GroupManager(this.core, this);
    this.credentials = new CredentialManager(this.core, this);
    this.limits = new LimitManager(this.core, this);
    this.extras = new ExtrasManager(this.core, this);
    this.domainConfigs = new DomainConfigManager(this.core, this);
    this.appCreds = new AppCredManager(this.core, this);
    this.trusts = new TrustManager(this.core, this);
    // Password changes, disabling and deletion revoke every token of the user.
    this.users.revoker = (userId) => this.revocations.revoke({ user_id: userId });
    // Delegated tokens: trusts and application credentials restrict roles at validation time.
    this.auth.appCreds = this.appCreds;
    this.auth.trusts = this.trusts;
    this.auth.assignments = this.assignments;
    this.tokens.delegation = {
      trust: (id, now) => this.trusts.forToken(id, now),
      appCred: (id, now) => this.appCreds.forToken(id, now),
    };
  }
}
