import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../common/config/index.js';
import { createLogger } from '../common/log.js';
import { buildCloud } from '../app.js';
import { writeCloudsYaml } from '../services/identity/bootstrap.js';
import { publicBaseUrl } from '../services/identity/index.js';

/** `nubes start`: build the cloud, listen, and shut down cleanly on SIGINT/SIGTERM. */
export async function start(config: Config): Promise<void> {
  const started = process.hrtime.bigint();
  mkdirSync(config.server.data_dir, { recursive: true, mode: 0o700 });
  const log = createLogger(config.log.level);
  const cloud = await buildCloud(config, { log });
  const [host, portText] = splitBind(config.server.bind);
  await cloud.app.listen({ host, port: Number(portText) });
  cloud.startWorkers();

  const base = publicBaseUrl({ config });
  const result = cloud.identity.bootstrapResult;
  if (!result) throw new Error('identity bootstrap did not run');
  const clouds = writeCloudsYaml(config.server.data_dir, `${base}/identity/v3`, config.server.region, result.adminPassword, result.demoPassword);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const lines = [
    `Nubes is ready at ${base} (${ms.toFixed(0)} ms, data in ${config.server.data_dir}, ${cloud.db.engine})`,
    `  Identity: ${base}/identity/v3`,
    `  clouds.yaml: ${clouds}`,
    `  Try: export OS_CLIENT_CONFIG_FILE=${clouds} OS_CLOUD=nubes; openstack token issue`,
    result.created && !config.identity.admin_password ? `  Admin password (generated, kept in ${join(config.server.data_dir, 'admin-password')})` : '',
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.warn('grace period over; exiting');
      process.exit(1);
    }, config.server.shutdown_grace_seconds * 1000 + 2000);
    timer.unref();
    await cloud.close();
    log.flush();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

export function splitBind(bind: string): [string, string] {
  const idx = bind.lastIndexOf(':');
  if (idx <= 0) return ['127.0.0.1', bind];
  return [bind.slice(0, idx).replace(/^\[|\]$/g, ''), bind.slice(idx + 1)];
}
