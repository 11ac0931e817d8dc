import { bearerToken } from './bearer-token.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './token-verifier.js';

/** What a request's Authorization header proves: nothing, a caller, or a broken token. */
export type Authentication =
  | { token: 'none' }
  | { token: 'valid'; principal: Principal }
  | { token: 'invalid'; problem: string };

/** Throws IssuerUnavailableError when the token cannot be checked at all. */
export async function authenticate(
  verifier: TokenVerifier,
  header: string | string[] | undefined,
): Promise<Authentication> {
  const token = bearerToken(header);
  if (token === undefined) return { token: 'none' };
  const verification = await verifier.verify(token);
  return verification.valid
    ? { token: 'valid', principal: verification.principal }
    : { token: 'invalid', problem: verification.problem };
}

/** Per request, so a token is verified once however many steps ask (a request is never reused). */
const authentications = new WeakMap<object, Authentication>();

export function rememberAuthentication(request: object, authentication: Authentication): void {
  authentications.set(request, authentication);
}

export function authenticationOf(request: object): Authentication | undefined {
  return authentications.get(request);
}
