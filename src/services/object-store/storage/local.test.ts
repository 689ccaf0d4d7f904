import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClusterContract } from './contract.test-suite.js';
import { createLocalCluster } from './local/cluster.js';

for (const replicas of [1, 3]) {
  runClusterContract(`local, ${replicas} replica(s)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nubes-os-'));
    const cluster = await createLocalCluster({ root: join(dir, 'object-store'), replicas, partPower: 6 });
    return {
      cluster,
      close: async () => {
        cluster.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
