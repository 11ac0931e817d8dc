import { Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { discoveryUrl, jwksUriFrom, signingAlgorithms } from './issuer-keys.js';
import { principalFromClaims, type Principal } from './principal.js';

/** The configuration variables of shared/CONTRACT.md "Identity and access". */
export interface AuthSettings {
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_JWKS_URL: string | undefined;
}

/** A token either names a caller or says in a few words what is wrong with it. */
export type Verification =
  { valid: true; principal: Principal } | { valid: false; problem: string };

/** The token could not be checked at all (the issuer's keys are unreachable): a fault, not a bad token. */
export class IssuerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`The issuer's signing keys cannot be fetched: ${(cause as Error).message}`, { cause });
    this.name = 'IssuerUnavailableError';
  }
}

/** Clocks of the issuer and the services may differ a little; a token is not that precise. */
const CLOCK_TOLERANCE_S = 5;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * Checks access tokens as an OAuth 2.0 resource server (RFC 9068): the signature against the
 * issuer's published keys (fetched once, fetched again when a token names a key not yet seen,
 * at most every 30 s), then `iss`, `aud` and `exp`, then the claims naming the caller. All of it
 * is `jose`: no cryptography is written here.
 */
export class TokenVerifier {
  private constructor(
    private readonly keys: ReturnType<typeof createRemoteJWKSet>,
    private readonly options: JWTVerifyOptions,
  ) {}

  /**
   * Finds the issuer's keys (its discovery document's `jwks_uri`, or AUTH_JWKS_URL) and fetches
   * them once, so a service that cannot check tokens does not start; callers retry while the
   * issuer is still starting.
   */
  static async connect(settings: AuthSettings): Promise<TokenVerifier> {
    const jwksUrl = settings.AUTH_JWKS_URL
      ? new URL(settings.AUTH_JWKS_URL)
      : jwksUriFrom(await fetchJson(discoveryUrl(settings.AUTH_ISSUER)), settings.AUTH_ISSUER);
    const keys = createRemoteJWKSet(jwksUrl, { timeoutDuration: FETCH_TIMEOUT_MS });
    await keys.reload();
    const algorithms = signingAlgorithms(keys.jwks() ?? { keys: [] });
    if (algorithms.length === 0)
      throw new Error(`the key set at ${jwksUrl.href} has no signing key`);
    new Logger('Auth').log(
      `Accepting tokens of ${settings.AUTH_ISSUER} for audience ${settings.AUTH_AUDIENCE} ` +
        `(keys from ${jwksUrl.href}, ${algorithms.join('/')})`,
    );
    return new TokenVerifier(keys, {
      issuer: settings.AUTH_ISSUER,
      audience: settings.AUTH_AUDIENCE,
      algorithms,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp'],
    });
  }

  /** Throws IssuerUnavailableError only when the keys were needed and could not be fetched. */
  async verify(token: string): Promise<Verification> {
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys, this.options));
    } catch (error) {
      const problem = tokenProblem(error);
      if (problem === undefined) throw new IssuerUnavailableError(error);
      return { valid: false, problem };
    }
    const principal = principalFromClaims(claims);
    if (!principal) {
      return { valid: false, problem: 'the token names neither an operator nor a customer' };
    }
    return { valid: true, principal };
  }
}

/** What is wrong with the token itself, or undefined when the fault is not the token's. */
function tokenProblem(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.reason === 'missing'
      ? `the token has no "${error.claim}" claim`
      : `the token's "${error.claim}" claim is not accepted here`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature is not valid';
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return 'the token is not signed by a key of the issuer';
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return "the token's signature algorithm is not accepted";
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return 'the token is not a well-formed signed JWT';
  }
  return undefined;
}

async function fetchJson(url: URL): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url.href} answered ${response.status}`);
  return response.json();
}
