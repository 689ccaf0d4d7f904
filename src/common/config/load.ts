import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CONFIG_SCHEMA, type Config } from './schema.js';
import { ConfigError, coerceOption, type AnyOption } from './options.js';

export interface ConfigSources {
  /** Explicit config file; when absent, <data_dir>/nubes.yaml is read if it exists. */
  file?: string;
  /** Usually process.env; passed in so nothing reads the environment at import time. */
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, as "section.option" -> raw value. Highest precedence. */
  overrides?: Record<string, unknown>;
}

type RawSections = Record<string, Record<string, unknown>>;

/** Builds the one Config object: defaults < nubes.yaml < NUBES_* env < flags. Throws ConfigError. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const overrides = sources.overrides ?? {};
  const layers: RawSections[] = [];

  const envLayer = readEnv(env);
  const flagLayer = splitDotted(overrides);
  const dataDir = String(flagLayer.server?.data_dir ?? envLayer.server?.data_dir ?? CONFIG_SCHEMA.server.data_dir.default);
  const file = sources.file ?? (existsSync(join(dataDir, 'nubes.yaml')) ? join(dataDir, 'nubes.yaml') : undefined);
  if (file) layers.push(readFile(file));
  layers.push(envLayer, flagLayer);

  const config: Record<string, Record<string, unknown>> = {};
  for (const [sectionName, section] of Object.entries(CONFIG_SCHEMA)) {
    const values: Record<string, unknown> = {};
    for (const [name, option] of Object.entries(section as Record<string, AnyOption>)) {
      let value: unknown = option.default;
      for (const layer of layers) {
        const raw = layer[sectionName]?.[name];
        if (raw !== undefined) value = coerceOption(`${sectionName}.${name}`, option, raw);
      }
      values[name] = value;
    }
    config[sectionName] = values;
  }
  for (const layer of layers) rejectUnknown(layer);
  // The object is assembled option by option from CONFIG_SCHEMA, so it has exactly Config's shape.
  return config as unknown as Config;
}

function readFile(path: string): RawSections {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${path}: expected a mapping of sections`);
  const out: RawSections = {};
  for (const [section, values] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new ConfigError(`${path}: section "${section}" must be a mapping`);
    }
    out[section] = values as Record<string, unknown>;
  }
  return out;
}

function readEnv(env: Record<string, string | undefined>): RawSections {
  const out: RawSections = {};
  for (const [sectionName, section] of Object.entries(CONFIG_SCHEMA)) {
    for (const name of Object.keys(section)) {
      const value = env[`NUBES_${sectionName}_${name}`.toUpperCase()];
      if (value !== undefined) (out[sectionName] ??= {})[name] = value;
    }
  }
  return out;
}

function splitDotted(flat: Record<string, unknown>): RawSections {
  const out: RawSections = {};
  for (const [key, value] of Object.entries(flat)) {
    if (value === undefined) continue;
    const dot = key.indexOf('.');
    if (dot <= 0) throw new ConfigError(`"${key}": expected section.option`);
    (out[key.slice(0, dot)] ??= {})[key.slice(dot + 1)] = value;
  }
  return out;
}

function rejectUnknown(layer: RawSections): void {
  const schema = CONFIG_SCHEMA as Record<string, Record<string, AnyOption>>;
  for (const [section, values] of Object.entries(layer)) {
    if (!schema[section]) throw new ConfigError(`unknown config section "${section}"`);
    for (const name of Object.keys(values)) {
      if (!schema[section][name]) throw new ConfigError(`unknown config option "${section}.${name}"`);
    }
  }
}

/** The config with secrets masked, for logs and `nubes manage config`. */
export function redactConfig(config: Config): Record<string, Record<string, unknown>> {
  const schema = CONFIG_SCHEMA as Record<string, Record<string, AnyOption>>;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, values] of Object.entries(config as unknown as Record<string, Record<string, unknown>>)) {
    out[section] = {};
    for (const [name, value] of Object.entries(values)) {
      out[section][name] = schema[section][name].secret && value !== null ? '***' : value;
    }
  }
  return out;
}
