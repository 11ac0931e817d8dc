// The operator's sign-in to /ui: OAuth 2.0 authorization code with PKCE (RFC 7636, S256)
// against the issuer the order service names in /ui/config.json, as a public client (a page
// cannot keep a secret). The access token lives in sessionStorage: this tab only, gone when it
// closes, and sent to nothing but the order service's own API.

const SESSION = 'orders-ui.session';
const PENDING = 'orders-ui.pending-sign-in';
/** A token this close to its expiry is not used: the request could arrive after it. */
const EXPIRY_MARGIN_MS = 30_000;

/** Where the issuer sends the browser back: CONTRACT-fixed `/ui/` of this origin. */
const redirectUri = () => `${location.origin}/ui/`;

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomText = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));

async function getJson(url, what) {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${what} answered ${response.status}`);
  return response.json();
}

let issuerPromise = null;

/** The issuer's endpoints, from its discovery document (once per page). */
function issuer() {
  issuerPromise ??= (async () => {
    const config = await getJson('/ui/config.json', 'The order service');
    const base = config.issuer.replace(/\/$/, '');
    const discovery = await getJson(`${base}/.well-known/openid-configuration`, 'The issuer');
    return { clientId: config.clientId, ...discovery };
  })();
  return issuerPromise;
}

function readJson(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

/** The signed-in session's access token, or null (none, or about to expire). */
export function accessToken() {
  const session = readJson(SESSION);
  if (!session || Date.now() > session.expiresAt - EXPIRY_MARGIN_MS) return null;
  return session.accessToken;
}

/** Forgets the token: the API refused it, or it expired. */
export function forgetSession() {
  sessionStorage.removeItem(SESSION);
}

/** Sends the browser to the issuer's sign-in page; it comes back to /ui/ with a code. */
export async function signIn() {
  const { authorization_endpoint: endpoint, clientId } = await issuer();
  const verifier = randomText(32);
  const challenge = base64url(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  );
  const state = randomText(16);
  // Where the operator was (?order=…), to return there after the round trip.
  const returnTo = location.pathname + location.search;
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri(),
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url.href);
}

/**
 * If the issuer just sent the browser back (`?code=&state=` or `?error=`), finishes the
 * sign-in: checks the state is the one this tab sent, exchanges the code with the verifier,
 * keeps the token and puts the page back where it was. Resolves to an error message, or null.
 */
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has('state') || !(params.has('code') || params.has('error'))) return null;
  const pending = readJson(PENDING);
  sessionStorage.removeItem(PENDING);
  history.replaceState({}, '', pending?.returnTo ?? '/ui/');
  if (!pending || pending.state !== params.get('state')) {
    return 'The sign-in answer does not belong to this tab: sign in again.';
  }
  const { token_endpoint: endpoint, clientId, issuer: issuerId } = await issuer();
  // RFC 9207: the answer names the issuer that sent it, so another one cannot pass its code off.
  if (params.has('iss') && params.get('iss') !== issuerId) {
    return `The sign-in answer came from ${params.get('iss')}, not from ${issuerId}.`;
  }
  if (params.has('error')) {
    return `The issuer refused the sign-in: ${params.get('error_description') ?? params.get('error')}`;
  }
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: redirectUri(),
      client_id: clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.access_token !== 'string') {
    return `The issuer did not give a token: ${body.error_description ?? body.error ?? response.status}`;
  }
  sessionStorage.setItem(
    SESSION,
    JSON.stringify({
      accessToken: body.access_token,
      idToken: body.id_token ?? null,
      expiresAt: Date.now() + Number(body.expires_in ?? 0) * 1000,
    }),
  );
  return null;
}

/** Forgets the token here and ends the session at the issuer, which sends the browser back. */
export async function signOut() {
  const session = readJson(SESSION);
  forgetSession();
  const { end_session_endpoint: endpoint, clientId } = await issuer();
  if (!endpoint) {
    location.assign('/ui/');
    return;
  }
  const url = new URL(endpoint);
  const params = { client_id: clientId, post_logout_redirect_uri: redirectUri() };
  if (session?.idToken) params.id_token_hint = session.idToken;
  url.search = new URLSearchParams(params).toString();
  location.assign(url.href);
}
