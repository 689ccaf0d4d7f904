import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runClusterContract } from './contract.test-suite.js';
import { createLocalCluster } from './local/cluster.js';
import { diskWorkers, DiskWorkerPool } from './local/disk-worker.js';

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

// The same contract where no disk worker can start: every write and read takes the fs/promises path.
runClusterContract('local, 3 replicas, without disk workers', async () => {
  const saved = { ...diskWorkers };
  diskWorkers.writes = new DiskWorkerPool(0);
  diskWorkers.reads = new DiskWorkerPool(0);
  const dir = mkdtempSync(join(tmpdir(), 'nubes-os-'));
  const cluster = await createLocalCluster({ root: join(dir, 'object-store'), replicas: 3, partPower: 6 });
  return {
    cluster,
    close: async () => {
      cluster.close();
      Object.assign(diskWorkers, saved);
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
