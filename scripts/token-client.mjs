// Bearer tokens for the running system, from the identity issuer's tools client (issuer/README.md):
// what `npm run -s token`, the demo, the benchmarks and the tests use to call the services.
//
//   const token = await fetchToken({ customerId: 'alice' });   // a customer's token
//   const token = await fetchToken({ operator: true });        // an operator's token
//
// The issuer is AUTH_ISSUER (default http://127.0.0.1:3004), the client secret
// ISSUER_TOOLS_SECRET or the local secret `issuer-tools` that `npm run infra:up` generates.
// Tokens are cached per issuer and identity until 5 minutes before they expire.
import { localSecret, secretsDir } from '../issuer/local-secrets.mjs';

export { localSecret, secretsDir };

export const DEFAULT_ISSUER = 'http://127.0.0.1:3004';
const TOOLS_CLIENT_ID = 'orders-tools';
/** A cached token is replaced this long before it expires, so no caller gets a dying one. */
const RENEW_BEFORE_EXPIRY_MS = 5 * 60 * 1000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Why no token: `unreachable` (no issuer at that URL), `refused` (the issuer answered with an
 * OAuth error, in `error`: invalid_request for a bad customer id, invalid_client for a wrong
 * secret), `no-secret` (no ISSUER_TOOLS_SECRET and no local secret).
 */
export class TokenError extends Error {
  constructor(reason, message, { error, status, cause } = {}) {
    super(message, { cause });
    this.name = 'TokenError';
    this.reason = reason;
    this.error = error;
    this.status = status;
  }
}

/** issuer -> Promise of its token endpoint (from its discovery document). */
const tokenEndpoints = new Map();
/** `<issuer> <form>` -> { promise, expiresAt } (expiresAt once the token has arrived). */
const tokens = new Map();

function tokenForm(who) {
  if (who && typeof who.customerId === 'string' && who.operator === undefined) {
    return new URLSearchParams({ role: 'customer', customer_id: who.customerId });
  }
  if (who && who.operator === true && who.customerId === undefined) {
    return new URLSearchParams({ role: 'operator' });
  }
  throw new TypeError('fetchToken expects { customerId: string } or { operator: true }');
}

async function call(issuer, url, init) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    const detail = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new TokenError(
      'unreachable',
      `the identity issuer ${issuer} does not answer (${detail}): is it running? (npm run infra:up)`,
      { cause: error },
    );
  }
}

async function discoverTokenEndpoint(issuer) {
  const response = await call(issuer, `${issuer}/.well-known/openid-configuration`);
  const document = response.ok ? await response.json().catch(() => undefined) : undefined;
  if (typeof document?.token_endpoint !== 'string') {
    throw new TokenError(
      'unreachable',
      `${issuer} serves no OpenID Connect discovery document (HTTP ${response.status})`,
      { status: response.status },
    );
  }
  return document.token_endpoint;
}

function tokenEndpoint(issuer) {
  let endpoint = tokenEndpoints.get(issuer);
  if (!endpoint) {
    endpoint = discoverTokenEndpoint(issuer);
    tokenEndpoints.set(issuer, endpoint);
    endpoint.catch(() => tokenEndpoints.delete(issuer));
  }
  return endpoint;
}

async function requestToken(issuer, secret, form) {
  const response = await call(issuer, await tokenEndpoint(issuer), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // RFC 6749 2.3.1: id and secret are form-encoded before they are joined and base64ed.
      authorization: `Basic ${Buffer.from(
        `${encodeURIComponent(TOOLS_CLIENT_ID)}:${encodeURIComponent(secret)}`,
      ).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...Object.fromEntries(form) }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.access_token !== 'string') {
    const error = body.error ?? 'no access token';
    throw new TokenError(
      'refused',
      `the identity issuer ${issuer} refused the token (HTTP ${response.status} ${error}` +
        `${body.error_description ? `: ${body.error_description}` : ''})`,
      { error, status: response.status },
    );
  }
  const lifetimeMs = (Number(body.expires_in) || 0) * 1000;
  return { token: body.access_token, expiresAt: Date.now() + lifetimeMs };
}

/**
 * An access token of the customer or of an operator. Options: `issuer` (default AUTH_ISSUER,
 * then http://127.0.0.1:3004), `secret` (default ISSUER_TOOLS_SECRET, then the local secret).
 * Throws TokenError when there is no token to be had.
 */
export async function fetchToken(who, options = {}) {
  const form = tokenForm(who);
  const issuer = (options.issuer ?? (process.env.AUTH_ISSUER || DEFAULT_ISSUER)).replace(
    /\/+$/,
    '',
  );
  const secret = options.secret ?? (process.env.ISSUER_TOOLS_SECRET || localSecret('issuer-tools'));
  if (!secret) {
    throw new TokenError(
      'no-secret',
      `no client secret for ${TOOLS_CLIENT_ID}: set ISSUER_TOOLS_SECRET, or run npm run infra:up ` +
        `(it generates ${secretsDir()}/issuer-tools)`,
    );
  }
  const key = `${issuer} ${secret} ${form}`;
  let entry = tokens.get(key);
  const stale =
    entry?.expiresAt !== undefined && Date.now() >= entry.expiresAt - RENEW_BEFORE_EXPIRY_MS;
  if (!entry || stale) {
    // Callers asking at the same time share one request.
    const fresh = { promise: requestToken(issuer, secret, form), expiresAt: undefined };
    tokens.set(key, fresh);
    fresh.promise.then(
      ({ expiresAt }) => (fresh.expiresAt = expiresAt),
      () => tokens.get(key) === fresh && tokens.delete(key),
    );
    entry = fresh;
  }
  return (await entry.promise).token;
}
