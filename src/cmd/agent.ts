import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../common/config/index.js';
import { createLogger } from '../common/log.js';
import { objectStoreRoot } from '../services/object-store/ring/store.js';
import { startStorageAgent } from '../services/object-store/storage/remote/agent.js';
import { isLoopback } from '../services/object-store/storage/remote/protocol.js';
import { splitBind } from './start.js';

interface AgentFlags {
  bind?: string;
  devices?: string;
}

/** Swift's object server port, the default of a storage agent. */
const DEFAULT_STORAGE_BIND = '127.0.0.1:6200';

/**
 * `nubes agent storage`: the account, container and object servers of this host's devices,
 * reached by the proxies listed in the rings as ip:port (see docs/object-store.md).
 */
export function registerAgentCommands<F extends AgentFlags>(program: Command, withCommonFlags: (c: Command) => Command, configFrom: (flags: F) => Config): void {
  const agent = program.command('agent').description('run host agents');
  withCommonFlags(agent.command('storage').description(`serve this host's object storage devices over HTTP (default bind ${DEFAULT_STORAGE_BIND})`))
    .option('--devices <dir>', 'directory whose subdirectories are the devices (default <data-dir>/object-store/devices)')
    .action(async (flags: F) => {
      const config = configFrom(flags);
      const log = createLogger(config.log.level);
      const [host, port] = splitBind(flags.bind ?? DEFAULT_STORAGE_BIND);
      const devicesDir = resolve(flags.devices ?? join(objectStoreRoot(config.server.data_dir), 'devices'));
      if (!config.object_store.storage_key && !isLoopback(host)) {
        process.stderr.write(`nubes agent storage: set [object_store] storage_key (e.g. --set object_store.storage_key=...) to listen on ${host}; without it only loopback is allowed\n`);
        process.exitCode = 2;
        return;
      }
      const running = await startStorageAgent({
        devicesDir,
        host,
        port: Number(port),
        key: config.object_store.storage_key,
        auditorSeconds: config.object_store.auditor_interval,
        onAudit: (r) => r.quarantined.length > 0 && log.warn({ quarantined: r.quarantined }, 'auditor quarantined objects'),
        onError: (err) => log.error({ err }, 'auditor pass failed'),
      });
      process.stdout.write(`Nubes storage agent serving ${devicesDir} at http://${host}:${running.port}\n`);
      const stop = () => void running.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
