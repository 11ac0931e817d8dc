export { AuthGuard } from './auth.guard.js';
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
