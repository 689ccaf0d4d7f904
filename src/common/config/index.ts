export { CONFIG_SCHEMA, type Config } from './schema.js';
export { loadConfig, redactConfig, type ConfigSources } from './load.js';
export { ConfigError, opt, type AnyOption } from './options.js';
