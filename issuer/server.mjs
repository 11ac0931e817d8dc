#!/usr/bin/env node
// The project's OpenID Connect issuer (README.md beside this file): `node issuer/server.mjs`.
// oidc-provider serves discovery, the JWKS, the authorization and token endpoints; this file
// adds the operator's sign-in page, a health check and security headers, and listens.
//
// Environment (all optional natively): ISSUER_PORT (3004), ISSUER_HOST (127.0.0.1), ISSUER_URL
// (http://127.0.0.1:<port>), ISSUER_UI_REDIRECT_URIS, ISSUER_TOOLS_SECRET,
// ISSUER_OPERATOR_PASSWORD, ISSUER_JWKS_FILE, ISSUER_COOKIE_KEYS, SECRETS_DIR / INFRA_DIR.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig } from './config.mjs';
import { interactionHandler } from './interactions.mjs';
import { loadCookieKeys, loadSigningJwks } from './keys.mjs';
import { STYLESHEET, STYLESHEET_PATH } from './pages.mjs';
import { createProvider } from './provider.mjs';

/**
 * Headers of every response. The pages have no script and no inline style; form-action lists
 * the /ui origins because a sign-in form's POST ends, through redirects, at the client's
 * redirect URI, and browsers apply form-action to every hop. script-src 'self' (nothing is
 * served) lets oidc-provider add the hash of its form_post response mode's one inline script.
 */
function securityHeaders(config) {
  const uiOrigins = [...new Set(config.uiRedirectUris.map((uri) => new URL(uri).origin))];
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      `form-action 'self' ${uiOrigins.join(' ')}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  };
}

async function main() {
  const config = loadConfig();
  const provider = createProvider(config, {
    jwks: await loadSigningJwks(config.jwksFile),
    cookieKeys: loadCookieKeys(config),
  });
  const handleInteraction = interactionHandler(provider, config);
  const handleOidc = provider.callback();
  const headers = securityHeaders(config);

  const server = createServer(async (req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const { pathname } = new URL(req.url ?? '/', 'http://issuer');
    try {
      if (pathname === '/health' && req.method === 'GET') {
        res.setHeader('Content-Type', 'application/json');
        res.end('{"status":"ok"}');
      } else if (pathname === STYLESHEET_PATH && req.method === 'GET') {
        res.setHeader('Content-Type', 'text/css; charset=utf-8');
        res.setHeader('Cache-Control', 'public, max-age=3600');
        res.end(STYLESHEET);
      } else if (!(await handleInteraction(req, res, pathname))) {
        await handleOidc(req, res);
      }
    } catch (error) {
      console.error('issuer: request failed', error);
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    }
  });

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  server.listen(config.port, config.host, () => {
    console.log(
      `issuer: ${config.issuer} listening on ${config.host}:${config.port} ` +
        `(ready in ${Math.round(performance.now())} ms)`,
    );
  });
  server.on('error', (error) => {
    console.error(`issuer: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `issuer: ${error.message}` : error);
  process.exit(1);
});
