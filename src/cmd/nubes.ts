import { Command } from 'commander';
import { ConfigError, loadConfig, redactConfig, type Config } from '../common/config/index.js';
import { start } from './start.js';
import { manageFernetRotate } from './manage.js';
import { registerRingCommands } from './ring.js';
import { registerAgentCommands } from './agent.js';

interface CommonFlags {
  config?: string;
  dataDir?: string;
  bind?: string;
  db?: string;
  adminPassword?: string;
  set?: string[];
  logLevel?: string;
  objectReplicas?: string;
  services?: string;
  join?: boolean;
}

function configFrom(flags: CommonFlags): Config {
  const overrides: Record<string, unknown> = {
    'server.data_dir': flags.dataDir,
    'server.bind': flags.bind,
    'database.url': flags.db,
    'identity.admin_password': flags.adminPassword,
    'log.level': flags.logLevel,
    'object_store.replicas': flags.objectReplicas,
    'server.services': flags.services,
    'server.join': flags.join,
  };
  for (const pair of flags.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects section.option=value, got "${pair}"`);
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return loadConfig({ file: flags.config, env: process.env, overrides });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withCommonFlags(command: Command): Command {
  return command
    .option('-c, --config <file>', 'nubes.yaml to read (default: <data-dir>/nubes.yaml if present)')
    .option('-d, --data-dir <dir>', 'state directory (default ./.nubes)')
    .option('-b, --bind <host:port>', 'listen address (default 127.0.0.1:8000)')
    .option('--db <url>', 'postgres://... to use PostgreSQL instead of SQLite')
    .option('--admin-password <pw>', 'password of the bootstrap admin user')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--object-replicas <n>', 'object store replicas (and devices) when its rings are first created')
    .option('--set <section.option=value>', 'any config option (repeatable)', collect);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('nubes').description('An OpenStack-compatible cloud in one process.');
  withCommonFlags(program.command('start').description('serve every API on one port'))
    .option('--services <names>', 'serve only these services, comma-separated (identity is always served)')
    .option('--join', 'add this process to the cloud already running on the same data dir and database (an extra API worker)')
    .action(async (flags: CommonFlags) => {
    await start(configFrom(flags));
  });
  const manage = program.command('manage').description('operator tasks');
  withCommonFlags(manage.command('fernet-rotate').description('rotate the Fernet token keys (like keystone-manage fernet_rotate)')).action((flags: CommonFlags) => {
    manageFernetRotate(configFrom(flags));
  });
  withCommonFlags(manage.command('config').description('print the effective configuration (secrets masked)')).action((flags: CommonFlags) => {
    process.stdout.write(`${JSON.stringify(redactConfig(configFrom(flags)), null, 2)}\n`);
  });
  registerRingCommands(program, withCommonFlags, configFrom);
  registerAgentCommands(program, withCommonFlags, configFrom);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nubes: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
