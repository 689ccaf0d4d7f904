import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadConfig } from '../../../../common/config/index.js';
import { bodyOf, readAll, writeMeta } from '../contract.test-suite.js';
import { loadRingFile } from '../../ring/store.js';
import { openConfiguredLocalCluster, stopClusterIfLocal } from './from-config.js';

it('builds the configured cluster under <data_dir>/object-store and survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nubes-oscfg-'));
  try {
    const config = loadConfig({ env: {}, overrides: { 'server.data_dir': dir, 'object_store.backend': 'local', 'object_store.replicas': '3', 'object_store.part_power': '5' } });
    const first = await openConfiguredLocalCluster(config);
    assert.equal(loadRingFile(join(dir, 'object-store'), 'object')?.replicas, 3);
    for (const d of ['d0', 'd1', 'd2']) assert.ok(existsSync(join(dir, 'object-store', 'devices', d)));
    await first.putContainer('AUTH_x', 'c', { set: {} }, writeMeta().timestamp);
    await first.putObject('AUTH_x', 'c', 'o', bodyOf('persisted'), writeMeta());
    await stopClusterIfLocal(first);
    const second = await openConfiguredLocalCluster(config);
    assert.equal((await readAll((await second.getObject('AUTH_x', 'c', 'o'))!.body)).toString(), 'persisted');
    assert.equal((await second.headAccount('AUTH_x'))?.objectCount, 1);
    await stopClusterIfLocal(second);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
