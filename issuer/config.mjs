// The issuer's configuration, read once from the environment and checked: a bad variable stops
// the start with one line naming it. Secrets default to the files `npm run infra:up` generates,
// so a native run needs no environment at all; containers pass the variables instead.
import { join } from 'node:path';
import { localSecret, secretsDir } from './local-secrets.mjs';

/** The audience of every access token: the orders API (the three services), as one resource. */
export const API_AUDIENCE = 'orders-api';
/**
 * RFC 8707 wants resource indicators to be absolute URIs; this one names the orders API. Clients
 * need not send it: it is every client's default resource.
 */
export const API_RESOURCE = 'urn:orders-api';
/** Access tokens are valid 2 h (CONTRACT.md asks for at least 1 h). */
export const ACCESS_TOKEN_TTL_SECONDS = 2 * 60 * 60;

export const TOOLS_CLIENT_ID = 'orders-tools';
export const UI_CLIENT_ID = 'orders-ui';
export const OPERATOR_ACCOUNT = 'operator';

/** Where the order service's /ui runs natively, in compose and in the chaos suite. */
const UI_PORTS = [3000, 13000, 3100];
const DEFAULT_UI_REDIRECT_URIS = UI_PORTS.flatMap((port) => [
  `http://127.0.0.1:${port}/ui/`,
  `http://localhost:${port}/ui/`,
]);

export class ConfigError extends Error {}

function port(name, text) {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new ConfigError(`${name} must be a TCP port (1-65535), got '${text}'`);
  }
  return Number(text);
}

function httpUrl(name, text) {
  const url = URL.parse(text);
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.hash || url.search) {
    throw new ConfigError(
      `${name} must be an http(s) URL without query or fragment, got '${text}'`,
    );
  }
  return url;
}

/** The issuer identifier: an origin, since discovery is served at its root. */
function issuerUrl(text) {
  const url = httpUrl('ISSUER_URL', text);
  if (url.pathname !== '/') {
    throw new ConfigError(`ISSUER_URL must be an origin without a path, got '${text}'`);
  }
  return url.origin;
}

function secret(variable, fileName, env) {
  const value = env[variable] || localSecret(fileName, env);
  if (!value) {
    throw new ConfigError(
      `${variable} is not set and ${join(secretsDir(env), fileName)} does not exist ` +
        '(npm run infra:up generates it)',
    );
  }
  return value;
}

export function loadConfig(env = process.env) {
  const listenPort = port('ISSUER_PORT', env.ISSUER_PORT ?? '3004');
  const extraRedirectUris = (env.ISSUER_UI_REDIRECT_URIS ?? '')
    .split(',')
    .map((uri) => uri.trim())
    .filter((uri) => uri !== '')
    .map((uri) => httpUrl('ISSUER_UI_REDIRECT_URIS', uri).href);
  const secrets = secretsDir(env);
  return {
    port: listenPort,
    host: env.ISSUER_HOST || '127.0.0.1',
    issuer: issuerUrl(env.ISSUER_URL || `http://127.0.0.1:${listenPort}`),
    uiRedirectUris: [...new Set([...DEFAULT_UI_REDIRECT_URIS, ...extraRedirectUris])],
    toolsSecret: secret('ISSUER_TOOLS_SECRET', 'issuer-tools', env),
    operatorPassword: secret('ISSUER_OPERATOR_PASSWORD', 'operator-password', env),
    jwksFile: env.ISSUER_JWKS_FILE || join(secrets, 'issuer-jwks.json'),
    // Comma list, newest first (it signs; the others still verify: rotation without logging
    // everyone out). Default: generated once into the secrets dir.
    cookieKeys: env.ISSUER_COOKIE_KEYS?.split(',').filter((key) => key !== ''),
    cookieKeysFile: join(secrets, 'issuer-cookie-keys'),
  };
}
