import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { systemClock } from '../../common/clock.js';
import { ConfigError, loadConfig } from '../../common/config/index.js';
import { createCluster } from './service.js';

it('a joined process refuses to open the local devices of the first one, and touches nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-osjoin-'));
  try {
    const config = loadConfig({ env: {}, overrides: { 'server.data_dir': dir, 'server.join': 'true', 'object_store.backend': 'local' } });
    await assert.rejects(createCluster({ config, clock: systemClock }), (err: unknown) => err instanceof ConfigError && /server\.join/.test(err.message));
    assert.equal(existsSync(join(dir, 'object-store')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
