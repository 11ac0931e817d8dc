// The OpenID Connect provider (oidc-provider): two clients, one resource server (the orders
// API), JWT access tokens whose `role` / `customer_id` claims are all the services look at.
import { Provider, errors } from 'oidc-provider';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  API_AUDIENCE,
  API_RESOURCE,
  OPERATOR_ACCOUNT,
  TOOLS_CLIENT_ID,
  UI_CLIENT_ID,
} from './config.mjs';
import { SIGNING_ALG } from './keys.mjs';
import { errorPage, logoutPage, loggedOutPage } from './pages.mjs';

/** CONTRACT.md: customer ids are 1-64 characters of [A-Za-z0-9._-]. */
const CUSTOMER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One value of a form parameter: a repeated one is refused rather than guessed at. */
function formValue(body, name) {
  const value = body?.[name];
  if (Array.isArray(value)) throw new errors.InvalidRequest(`${name} must be given once`);
  return value === '' ? undefined : value;
}

/**
 * The claims of a token the tools client asks for with `role` and `customer_id` (extra token
 * request parameters): the stand-in for a front end that has authenticated a customer.
 */
export function toolsTokenClaims(body) {
  const role = formValue(body, 'role');
  const customerId = formValue(body, 'customer_id');
  if (role === 'operator') {
    if (customerId !== undefined) {
      throw new errors.InvalidRequest('customer_id must not be given with role=operator');
    }
    return { role };
  }
  if (role === 'customer') {
    if (customerId === undefined) {
      throw new errors.InvalidRequest('customer_id is required with role=customer');
    }
    if (!CUSTOMER_ID.test(customerId)) {
      throw new errors.InvalidRequest('customer_id must be 1-64 characters of [A-Za-z0-9._-]');
    }
    return { role, customer_id: customerId };
  }
  throw new errors.InvalidRequest('role must be customer or operator');
}

/**
 * Claims of every access token. oidc-provider's token endpoint accepts only the parameters a
 * grant declares, so `role` and `customer_id` are read from the parsed form body; an invalid
 * one fails the token request with 400 invalid_request (after client authentication).
 */
async function extraTokenClaims(ctx, token) {
  if (token.kind === 'ClientCredentials' && token.clientId === TOOLS_CLIENT_ID) {
    return toolsTokenClaims(ctx.oidc.body);
  }
  if (token.kind === 'AccessToken' && token.accountId === OPERATOR_ACCOUNT) {
    return { role: 'operator' };
  }
  return undefined;
}

/** The only resource server: the orders API, JWT access tokens (RFC 9068) for 2 h. */
const ORDERS_API = {
  scope: '',
  audience: API_AUDIENCE,
  accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
  accessTokenFormat: 'jwt',
  jwt: { sign: { alg: SIGNING_ALG } },
};

/** The one account that signs in interactively (customers never do in this project). */
async function findAccount(_ctx, id) {
  if (id !== OPERATOR_ACCOUNT) return undefined;
  return { accountId: id, claims: async () => ({ sub: id }) };
}

/**
 * The /ui is a first-party client: the operator is not asked to consent to it (oidc-provider's
 * "skip consent" recipe). Its first sign-in creates the grant the consent page would have.
 */
async function loadExistingGrant(ctx) {
  const { client, provider, result, session } = ctx.oidc;
  const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
  if (grantId) return provider.Grant.find(grantId);
  if (client.clientId !== UI_CLIENT_ID) return undefined;
  const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope('openid');
  grant.addResourceScope(API_RESOURCE, ORDERS_API.scope);
  await grant.save();
  return grant;
}

export function createProvider(config, { jwks, cookieKeys }) {
  const provider = new Provider(config.issuer, {
    clients: [
      {
        client_id: TOOLS_CLIENT_ID,
        client_secret: config.toolsSecret,
        grant_types: ['client_credentials'],
        response_types: [],
      },
      {
        client_id: UI_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: config.uiRedirectUris,
        post_logout_redirect_uris: config.uiRedirectUris,
      },
    ],
    jwks,
    cookies: { keys: cookieKeys },
    findAccount,
    loadExistingGrant,
    extraTokenClaims,
    responseTypes: ['code'],
    scopes: ['openid'],
    // Every authorization request brings a code_challenge (S256 is the only method
    // oidc-provider accepts), public client or not.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // The access token of a code exchange is for the orders API even with scope=openid;
      // without a userinfo endpoint there is no other audience it could be for.
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== API_RESOURCE) throw new errors.InvalidTarget();
          return ORDERS_API;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => logoutPage(ctx, form),
        postLogoutSuccessSource: async (ctx) => loggedOutPage(ctx),
      },
    },
    renderError: async (ctx, out) => errorPage(ctx, out),
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      ClientCredentials: ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 10 * 60,
      // An operator signs in again after a working day.
      Session: 8 * 60 * 60,
      Grant: 8 * 60 * 60,
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('issuer: server error', error));
  return provider;
}
