import type { JSONWebKeySet } from 'jose';

/**
 * What the services learn about the issuer before they accept a token: where its keys are and
 * which algorithms they sign with. Kept apart from the verification so the rules read alone.
 */

/** OpenID Connect Discovery 1.0, section 4: `<issuer>/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
}

/**
 * The `jwks_uri` of a discovery document, after checking the document is the issuer's own:
 * its `issuer` must equal the configured one exactly (Discovery 4.3), since tokens are
 * checked against that same string.
 */
export function jwksUriFrom(document: unknown, issuer: string): URL {
  const { issuer: named, jwks_uri: jwksUri } = (document ?? {}) as Record<string, unknown>;
  if (named !== issuer) {
    throw new Error(
      `the discovery document names issuer ${JSON.stringify(named)}, not AUTH_ISSUER ${JSON.stringify(issuer)}`,
    );
  }
  if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
  return new URL(jwksUri);
}

/** Signature algorithms by key type (and curve): only asymmetric ones, so never HS* or none. */
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_BY_CURVE: Record<string, string> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};
const OKP = ['EdDSA', 'Ed25519'];

function algorithmsOfKeyType(kty: string | undefined, crv: string | undefined): string[] {
  if (kty === 'RSA') return RSA;
  if (kty === 'EC' && crv !== undefined && EC_BY_CURVE[crv]) return [EC_BY_CURVE[crv]];
  if (kty === 'OKP' && crv === 'Ed25519') return OKP;
  return [];
}

/**
 * The algorithms a token may be signed with: those of the issuer's signing keys (a key's `alg`
 * when it names one, else every asymmetric algorithm its type allows). Pinning them means a
 * token cannot pick its own algorithm (RFC 8725, 3.1): a public key can never be used as an
 * HMAC secret, and `none` is never accepted.
 */
export function signingAlgorithms(jwks: JSONWebKeySet): string[] {
  const algorithms = new Set<string>();
  for (const key of jwks.keys) {
    if (key.use !== undefined && key.use !== 'sig') continue;
    const allowed = algorithmsOfKeyType(key.kty, key.crv);
    for (const alg of key.alg === undefined ? allowed : allowed.filter((a) => a === key.alg)) {
      algorithms.add(alg);
    }
  }
  return [...algorithms];
}
