import { join } from 'node:path';
import type { Config } from '../common/config/index.js';
import { FernetKeyRepository } from '../services/identity/token/index.js';

/** Rotates keys in place; running servers pick the new primary up within a second. */
export function manageFernetRotate(config: Config): void {
  const repo = new FernetKeyRepository(join(config.server.data_dir, 'fernet-keys'), config.identity.max_active_keys);
  repo.setup();
  repo.rotate();
  process.stdout.write(`rotated Fernet keys in ${join(config.server.data_dir, 'fernet-keys')}\n`);
}
