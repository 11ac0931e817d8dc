// The sign-in interaction oidc-provider redirects the browser to (`/interaction/<uid>`): a form
// for the operator's user name and password. There is no consent step: the only interactive
// client is the project's own /ui (see loadExistingGrant in provider.mjs).
import { createHash, timingSafeEqual } from 'node:crypto';
import { errors } from 'oidc-provider';
import { OPERATOR_ACCOUNT } from './config.mjs';
import { loginPage, messagePage } from './pages.mjs';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/abort)?$/;
/** A user name and a password; anything longer is not a sign-in attempt. */
const FORM_LIMIT_BYTES = 4096;

/** Constant-time comparison of two strings of any lengths (their digests have one length). */
function sameSecret(given, expected) {
  const digest = (text) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function readForm(req) {
  if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'the form must be application/x-www-form-urlencoded');
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > FORM_LIMIT_BYTES) throw new HttpError(413, 'the form is too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function sendError(res, status, message) {
  send(res, status, messagePage('Sign-in failed', message));
}

/**
 * Returns a handler for `/interaction/...` requests: true if it answered the request, false if
 * the path is not one of its routes.
 */
export function interactionHandler(provider, { operatorPassword }) {
  async function showLogin(req, res) {
    const { uid, prompt, params } = await provider.interactionDetails(req, res);
    if (prompt.name !== 'login') {
      throw new HttpError(400, `unsupported interaction '${prompt.name}'`);
    }
    send(res, 200, loginPage({ uid, clientId: params.client_id }));
  }

  async function login(req, res) {
    const { uid, prompt, params } = await provider.interactionDetails(req, res);
    if (prompt.name !== 'login') {
      throw new HttpError(400, `unsupported interaction '${prompt.name}'`);
    }
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    // Both checks always run: the answer takes as long for a wrong name as for a wrong password.
    const nameMatches = sameSecret(username, OPERATOR_ACCOUNT);
    const passwordMatches = sameSecret(password, operatorPassword);
    if (!(nameMatches && passwordMatches)) {
      console.warn(`issuer: failed sign-in for client ${params.client_id}`);
      send(
        res,
        401,
        loginPage({
          uid,
          clientId: params.client_id,
          username,
          error: 'Wrong user name or password.',
        }),
      );
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: OPERATOR_ACCOUNT } },
      { mergeWithLastSubmission: false },
    );
  }

  async function abort(req, res) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the operator cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }

  return async function handleInteraction(req, res, pathname) {
    const match = ROUTE.exec(pathname);
    if (!match) return false;
    const action = match[2] ?? '';
    try {
      if (action === '' && req.method === 'GET') await showLogin(req, res);
      else if (action === '/login' && req.method === 'POST') await login(req, res);
      else if (action === '/abort' && req.method === 'GET') await abort(req, res);
      else throw new HttpError(405, 'method not allowed');
    } catch (error) {
      if (error instanceof HttpError) {
        sendError(res, error.status, error.message);
      } else if (error instanceof errors.SessionNotFound) {
        // No (or an expired) interaction cookie: a stale tab, or a form posted from elsewhere.
        sendError(res, 400, 'This sign-in has expired. Go back to the application and retry.');
      } else {
        throw error;
      }
    }
    return true;
  };
}
