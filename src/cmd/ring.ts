import type { Command } from 'commander';
import type { Config } from '../common/config/index.js';
import { parseDeviceSpec, parseKinds, ringAdd, ringCreate, ringRebalance, ringRemove, ringSetWeight, ringShow } from '../services/object-store/ring/admin.js';
import { RingBuilderError } from '../services/object-store/ring/builder.js';
import { objectStoreRoot } from '../services/object-store/ring/store.js';

/**
 * `nubes ring create|add|rebalance|show|set-weight|remove`: swift-ring-builder for the object
 * store's account, container and object rings (<data_dir>/object-store/rings/*.ring.json).
 */
export function registerRingCommands<F extends object>(program: Command, withCommonFlags: (c: Command) => Command, configFrom: (flags: F) => Config): void {
  const ring = program.command('ring').description('manage the object store rings (like swift-ring-builder)');
  const run = (flags: F, op: (root: string) => string) => {
    try {
      process.stdout.write(`${op(objectStoreRoot(configFrom(flags).server.data_dir))}\n`);
    } catch (err) {
      if (!(err instanceof RingBuilderError)) throw err;
      process.stderr.write(`nubes ring: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
  const int = (v: string) => Number.parseInt(v, 10);
  withCommonFlags(ring.command('create <ring>').description('create an empty ring: account, container, object or all'))
    .option('--part-power <n>', 'log2 of the partition count', int, 10)
    .option('--replicas <n>', 'replicas of every partition', int, 3)
    .option('--min-part-hours <n>', 'recorded for compatibility', int, 1)
    .option('--force', 'overwrite an existing ring')
    .action((kind: string, flags: F & { partPower: number; replicas: number; minPartHours: number; force?: boolean }) =>
      run(flags, (root) => ringCreate(root, parseKinds(kind), flags.partPower, flags.replicas, flags.minPartHours, flags.force === true)),
    );
  withCommonFlags(ring.command('add <ring> <device> <weight>').description('add a device: r1z1-127.0.0.1:6200/sdb1 (remote) or r1z1-/srv/node/d1 (local)')).action((kind: string, spec: string, weight: string, flags: F) =>
    run(flags, (root) => ringAdd(root, parseKinds(kind), parseDeviceSpec(spec, Number(weight)))),
  );
  withCommonFlags(ring.command('set-weight <ring> <id> <weight>').description('change a device weight')).action((kind: string, id: string, weight: string, flags: F) =>
    run(flags, (root) => ringSetWeight(root, parseKinds(kind), int(id), Number(weight))),
  );
  withCommonFlags(ring.command('remove <ring> <id>').description('remove a device')).action((kind: string, id: string, flags: F) => run(flags, (root) => ringRemove(root, parseKinds(kind), int(id))));
  withCommonFlags(ring.command('rebalance <ring>').description('reassign partitions to devices')).action((kind: string, flags: F) => run(flags, (root) => ringRebalance(root, parseKinds(kind))));
  withCommonFlags(ring.command('show [ring]').description('print devices, partition counts and balance')).action((kind: string | undefined, flags: F) => run(flags, (root) => ringShow(root, parseKinds(kind ?? 'all'))));
}
