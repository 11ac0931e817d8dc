export { AuthGuard, ISSUER_UNAVAILABLE, MISSING_TOKEN } from './auth.guard.js';
export { authenticate, rememberAuthentication } from './authentication.js';
export type { Authentication } from './authentication.js';
export { bearerChallenge } from './bearer-token.js';
export { actsFor, describePrincipal, principalFromClaims } from './principal.js';
export type { Principal } from './principal.js';
export {
  AllowCustomers,
  CurrentPrincipal,
  principalOf,
  Public,
  requireActsFor,
} from './route-access.js';
export type { RouteAccess } from './route-access.js';
export { IssuerUnavailableError, TokenVerifier } from './token-verifier.js';
export type { AuthSettings, Verification } from './token-verifier.js';
