import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from './index.js';
import { renderConfigReference } from './reference.js';

describe('config', () => {
  it('has defaults for every option', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.server.bind, '127.0.0.1:8000');
    assert.equal(config.database.url, null);
    assert.equal(config.identity.token_expiration, 3600);
  });

  it('layers file < env < flags and coerces types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nubes-cfg-'));
    writeFileSync(join(dir, 'nubes.yaml'), 'server:\n  region: FileRegion\nidentity:\n  token_expiration: 100\n  lockout_failure_attempts: 3\n');
    const config = loadConfig({
      env: { NUBES_IDENTITY_TOKEN_EXPIRATION: '200' },
      overrides: { 'server.data_dir': dir, 'log.access_log': 'false' },
    });
    assert.equal(config.server.region, 'FileRegion');
    assert.equal(config.identity.token_expiration, 200);
    assert.equal(config.identity.lockout_failure_attempts, 3);
    assert.equal(config.log.access_log, false);
  });

  it('rejects unknown options, bad types and out-of-range values', () => {
    assert.throws(() => loadConfig({ env: {}, overrides: { 'server.nope': 1 } }), ConfigError);
    assert.throws(() => loadConfig({ env: {}, overrides: { 'identity.token_expiration': 'soon' } }), /expected an integer/);
    assert.throws(() => loadConfig({ env: {}, overrides: { 'identity.token_expiration': 5 } }), /must be >= 60/);
    assert.throws(() => loadConfig({ env: {}, overrides: { 'log.level': 'loud' } }), /expected one of/);
  });

  it('docs/config.md is generated from the current schema (run `npm run config-docs`)', () => {
    const committed = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
    assert.equal(committed, renderConfigReference());
  });
});
