// The identity issuer (issuer/server.mjs), started by this test on a port and secrets dir of its
// own: discovery and JWKS, the tools client's customer and operator tokens verified as a
// resource server verifies them (jose, remote JWKS, issuer, audience), what it refuses, the
// operator's authorization code + PKCE sign-in over plain HTTP, and `npm run -s token`.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { fetchToken, TokenError } from '../../scripts/token-client.mjs';
import { freePort, TestIssuer } from '../support/issuer.js';

const AUDIENCE = 'orders-api';
const UI_REDIRECT_URI = 'http://127.0.0.1:3000/ui/';
const run = promisify(execFile);

let issuer: TestIssuer;
let discovery: Record<string, unknown>;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const response = await fetch(`${issuer.url}/.well-known/openid-configuration`);
  discovery = (await response.json()) as Record<string, unknown>;
});

afterAll(async () => {
  await issuer?.stop();
});

/** What a resource server does with a bearer token. */
async function verify(token: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(String(discovery.jwks_uri)));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: issuer.url,
    audience: AUDIENCE,
    typ: 'at+jwt',
  });
  return payload;
}

function tokenOf(who: { customerId: string } | { operator: true }): Promise<string> {
  return fetchToken(who, { issuer: issuer.url, secret: issuer.toolsSecret });
}

/** A client_credentials request with any form, for what fetchToken cannot express. */
async function tokenRequest(form: Record<string, string>, secret = issuer.toolsSecret) {
  const response = await fetch(String(discovery.token_endpoint), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`orders-tools:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('identity issuer', () => {
  it('serves its discovery document and its public signing keys', async () => {
    expect(discovery).toMatchObject({
      issuer: issuer.url,
      jwks_uri: `${issuer.url}/jwks`,
      token_endpoint: `${issuer.url}/token`,
      authorization_endpoint: `${issuer.url}/auth`,
      code_challenge_methods_supported: ['S256'],
    });
    expect(discovery.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'client_credentials']),
    );

    const { keys } = (await (await fetch(String(discovery.jwks_uri))).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
    // The private half is a secret file: readable by its owner only.
    expect(statSync(join(issuer.secretsDir, 'issuer-jwks.json')).mode & 0o777).toBe(0o600);
    expect((await fetch(`${issuer.url}/health`)).status).toBe(200);
  });

  it("issues a customer's token that verifies and names the customer", async () => {
    const payload = await verify(await tokenOf({ customerId: 'alice.1_x-Y' }));
    expect(payload).toMatchObject({ role: 'customer', customer_id: 'alice.1_x-Y' });
    expect(payload.exp! - payload.iat!).toBe(2 * 60 * 60);
  });

  it("issues an operator's token that verifies", async () => {
    const payload = await verify(await tokenOf({ operator: true }));
    expect(payload.role).toBe('operator');
    expect(payload).not.toHaveProperty('customer_id');
  });

  it('caches a token until shortly before it expires', async () => {
    const who = { customerId: 'cached-customer' };
    expect(await tokenOf(who)).toBe(await tokenOf(who));
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    expect(await tokenRequest({ role: 'operator' }, 'not-the-secret')).toEqual({
      status: 401,
      body: expect.objectContaining({ error: 'invalid_client' }),
    });
    const refusal = fetchToken({ operator: true }, { issuer: issuer.url, secret: 'wrong' });
    await expect(refusal).rejects.toBeInstanceOf(TokenError);
    await expect(refusal).rejects.toMatchObject({ reason: 'refused', status: 401 });
  });

  it.each([
    ['a customer without customer_id', { role: 'customer' }],
    ['a customer id with a space', { role: 'customer', customer_id: 'a b' }],
    ['a customer id of 65 characters', { role: 'customer', customer_id: 'x'.repeat(65) }],
    ['an operator with a customer_id', { role: 'operator', customer_id: 'alice' }],
    ['no role', {}],
    ['an unknown role', { role: 'admin' }],
    ['another audience', { role: 'operator', resource: 'urn:another-api' }],
  ])('refuses %s with a 400 OAuth error', async (_case, form) => {
    const { status, body } = await tokenRequest(form);
    expect(status).toBe(400);
    expect(body.error).toMatch(/^invalid_(request|target)$/);
    expect(body).not.toHaveProperty('access_token');
  });

  it('keeps its signing keys across a restart: earlier tokens still verify', async () => {
    const token = await tokenOf({ customerId: 'before-restart' });
    await issuer.restart();
    await expect(verify(token)).resolves.toMatchObject({ customer_id: 'before-restart' });
  });
});

describe('operator sign-in (authorization code + PKCE)', () => {
  /** A browser's cookie jar, reduced to what one sign-in needs (name -> value). */
  const cookies = new Map<string, string>();

  async function browse(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(new URL(path, issuer.url), {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const split = pair.indexOf('=');
      cookies.set(pair.slice(0, split), pair.slice(split + 1));
    }
    return response;
  }

  function pkce() {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  function authorizeUrl(challenge: string | undefined): string {
    const params = new URLSearchParams({
      client_id: 'orders-ui',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: UI_REDIRECT_URI,
      state: randomBytes(8).toString('hex'),
    });
    if (challenge) {
      params.set('code_challenge', challenge);
      params.set('code_challenge_method', 'S256');
    }
    return `/auth?${params}`;
  }

  function signIn(interaction: string, password: string): Promise<Response> {
    return browse(`${interaction}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'operator', password }),
    });
  }

  function exchange(code: string, verifier?: string) {
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: 'orders-ui',
      code,
      redirect_uri: UI_REDIRECT_URI,
    });
    if (verifier) form.set('code_verifier', verifier);
    return fetch(String(discovery.token_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
  }

  /** authorize -> sign-in page -> password -> back to the UI with a code. */
  async function codeFor(challenge: string): Promise<string> {
    cookies.clear();
    const authorize = await browse(authorizeUrl(challenge));
    expect(authorize.status).toBe(303);
    const interaction = authorize.headers.get('location')!;
    expect(interaction).toMatch(/^\/interaction\/[\w-]+$/);

    const page = await browse(interaction);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`action="${interaction}/login"`);
    expect(html).not.toMatch(/<script|style=/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");

    const signedIn = await signIn(interaction, issuer.operatorPassword);
    expect(signedIn.status).toBe(303);
    const resumed = await browse(signedIn.headers.get('location')!);
    expect(resumed.status).toBe(303);
    const callback = new URL(resumed.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(UI_REDIRECT_URI);
    expect(callback.searchParams.get('iss')).toBe(issuer.url);
    return callback.searchParams.get('code')!;
  }

  it("signs the operator in and gives the UI an operator's token", async () => {
    const { verifier, challenge } = pkce();
    const response = await exchange(await codeFor(challenge), verifier);
    expect(response.status).toBe(200);
    const { access_token: accessToken } = (await response.json()) as { access_token: string };
    const payload = await verify(accessToken);
    expect(payload).toMatchObject({ role: 'operator', sub: 'operator', client_id: 'orders-ui' });
  });

  it('refuses a wrong password and stays on the sign-in page', async () => {
    cookies.clear();
    const interaction = (await browse(authorizeUrl(pkce().challenge))).headers.get('location')!;
    const refused = await signIn(interaction, 'not-the-password');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).toContain('Wrong user name or password');
  });

  it('refuses a code exchanged without its code_verifier', async () => {
    const response = await exchange(await codeFor(pkce().challenge));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses an authorization request without a code_challenge', async () => {
    cookies.clear();
    const response = await browse(authorizeUrl(undefined));
    expect(response.status).toBe(303);
    const callback = new URL(response.headers.get('location')!);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('code')).toBeNull();
  });
});

describe('npm run -s token', () => {
  it('prints only a token of the customer', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--customer', 'carol'], {
      env: issuer.env,
    });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(decodeJwt(stdout.trim())).toMatchObject({ role: 'customer', customer_id: 'carol' });
    await verify(stdout.trim());
  });

  it('prints usage and exits 2 on bad arguments', async () => {
    const failure = run('node', ['scripts/token.mjs', '--customer'], { env: issuer.env });
    await expect(failure).rejects.toMatchObject({ code: 2, stdout: '' });
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringMatching(/^usage:/) });
  });

  it('says in one line that the issuer is down and exits 1', async () => {
    const env = { ...issuer.env, AUTH_ISSUER: `http://127.0.0.1:${await freePort()}` };
    const failure = run('node', ['scripts/token.mjs', '--operator'], { env });
    await expect(failure).rejects.toMatchObject({ code: 1, stdout: '' });
    await expect(failure).rejects.toMatchObject({
      stderr: expect.stringMatching(/^token: the identity issuer .* does not answer .*\n$/),
    });
  });
});
