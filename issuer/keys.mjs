// The issuer's keys, generated on its first start and kept in the secrets dir (0600), so tokens
// issued before a restart still verify after it and the resource servers' cached JWKS stays
// valid. Rotation: put a new key last in the file, restart, move it first, restart (the first
// key signs, all of them verify).
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createSecretFileOnce, readSecretFile } from './local-secrets.mjs';

/** RS256: the algorithm RFC 9068 and every JOSE library support; Keycloak signs with it too. */
export const SIGNING_ALG = 'RS256';

async function newSigningJwks() {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, {
    modulusLength: 2048,
    extractable: true,
  });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = SIGNING_ALG;
  jwk.use = 'sig';
  return `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`;
}

/** The private JWKS oidc-provider signs with (it publishes only the public halves). */
export async function loadSigningJwks(file) {
  const text = readSecretFile(file) ?? createSecretFileOnce(file, await newSigningJwks());
  let jwks;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not a JSON Web Key Set`);
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0 || jwks.keys.some((key) => !key.d)) {
    throw new Error(`${file} must hold a JWKS of private keys ({"keys": [...]})`);
  }
  return jwks;
}

/**
 * Keys that sign the issuer's cookies (the login interaction, the operator's session): a comma
 * list, the first signs and all verify.
 */
export function loadCookieKeys(config) {
  if (config.cookieKeys?.length) return config.cookieKeys;
  const text =
    readSecretFile(config.cookieKeysFile) ??
    createSecretFileOnce(config.cookieKeysFile, randomBytes(32).toString('base64url'));
  return text.split(',').filter((key) => key !== '');
}
