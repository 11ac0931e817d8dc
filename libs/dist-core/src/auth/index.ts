// The contents page. Routes: `Public`, `AllowCustomers` (unmarked routes are operators'), the
// caller as `CurrentPrincipal`, and the own-resource rules `actsFor` / `requireActsFor`.
// The bootstrap wires the rest: `TokenVerifier.connect`, `AuthGuard`, `authenticateBeforeBody`.
export { AuthGuard } from './auth.guard.js';
export { authenticateBeforeBody } from './authenticate-before-body.js';
export { actsFor, type Principal } from './principal.js';
export {
  AllowCustomers,
  CurrentPrincipal,
  principalOf,
  Public,
  requireActsFor,
} from './route-access.js';
export { TokenVerifier, type AuthSettings } from './token-verifier.js';
