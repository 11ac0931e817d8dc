export { ConfigError, env, loadConfig } from './env-schema.js';
export type { ConfigOf, EnvField, EnvSchema } from './env-schema.js';
export { DEFAULTS, redactUrl, sharedConfig } from './defaults.js';
export { localSecret, requireLocalSecret, secretsDir } from './local-secrets.js';
