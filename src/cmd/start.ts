import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Config } from '../common/config/index.js';
import { createLogger } from '../common/log.js';
import type { ServiceModule } from '../common/service.js';
import { buildCloud } from '../app.js';
import { SERVICES } from '../services.js';
import { writeCloudsYaml } from '../services/identity/bootstrap.js';
import { publicBaseUrl } from '../services/identity/index.js';

/** `nubes start`: build the cloud, listen, and shut down cleanly on SIGINT/SIGTERM. */
export async function start(config: Config): Promise<void> {
  const started = process.hrtime.bigint();
  mkdirSync(config.server.data_dir, { recursive: true, mode: 0o700 });
  const log = createLogger(config.log.level);
  const cloud = await buildCloud(config, { log, services: servedModules(config) });
  const [host, portText] = splitBind(config.server.bind);
  await cloud.app.listen({ host, port: Number(portText) });
  cloud.startWorkers();

  const base = publicBaseUrl({ config });
  const result = cloud.identity.bootstrapResult;
  if (!result) throw new Error('identity bootstrap did not run');
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let lines: string[];
  if (config.server.join) {
    // The cloud's clouds.yaml belongs to the process that created it; this one only adds workers.
    lines = [`Nubes joined the cloud in ${config.server.data_dir} at ${base} (${ms.toFixed(0)} ms, ${cloud.db.engine}), serving ${servedModules(config).map((m) => m.name).join(', ')}`];
  } else {
    const clouds = writeCloudsYaml(config.server.data_dir, `${base}/identity/v3`, config.server.region, result.adminPassword, result.demoPassword);
    lines = [
      `Nubes is ready at ${base} (${ms.toFixed(0)} ms, data in ${config.server.data_dir}, ${cloud.db.engine})`,
      `  Identity: ${base}/identity/v3`,
      `  clouds.yaml: ${clouds}`,
      `  Try: export OS_CLIENT_CONFIG_FILE=${clouds} OS_CLOUD=nubes; openstack token issue`,
      result.created && !config.identity.admin_password ? `  Admin password (generated, kept in ${join(config.server.data_dir, 'admin-password')})` : '',
    ].filter(Boolean);
  }
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

/** server.services as registry modules, identity first and always (tokens are validated against it). */
export function servedModules(config: Config): readonly ServiceModule[] {
  const wanted = config.server.services.split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted.length) return SERVICES;
  const unknown = wanted.filter((name) => !SERVICES.some((m) => m.name === name));
  if (unknown.length) throw new ConfigError(`server.services: unknown service ${unknown.join(', ')} (known: ${SERVICES.map((m) => m.name).join(', ')})`);
  return SERVICES.filter((m) => m.name === 'identity' || wanted.includes(m.name));
}

export function splitBind(bind: string): [string, string] {
  const idx = bind.lastIndexOf(':');
  if (idx <= 0) return ['127.0.0.1', bind];
  return [bind.slice(0, idx).replace(/^\[|\]$/g, ''), bind.slice(idx + 1)];
}
