import { describe, expect, it } from '@jest/globals';
import { discoveryUrl, jwksUriFrom, signingAlgorithms } from './issuer-keys.js';

describe('discoveryUrl', () => {
  it('appends the well-known path, with or without a trailing slash', () => {
    expect(discoveryUrl('http://127.0.0.1:3004').href).toBe(
      'http://127.0.0.1:3004/.well-known/openid-configuration',
    );
    expect(discoveryUrl('https://id.example/realms/shop/').href).toBe(
      'https://id.example/realms/shop/.well-known/openid-configuration',
    );
  });
});

describe('jwksUriFrom', () => {
  const issuer = 'http://127.0.0.1:3004';

  it('returns the jwks_uri of the configured issuer', () => {
    expect(jwksUriFrom({ issuer, jwks_uri: `${issuer}/jwks` }, issuer).href).toBe(
      'http://127.0.0.1:3004/jwks',
    );
  });

  it.each([
    [
      'another issuer',
      { issuer: 'http://localhost:3004', jwks_uri: 'http://x/jwks' },
      'names issuer',
    ],
    ['no issuer', { jwks_uri: 'http://x/jwks' }, 'names issuer undefined'],
    ['no jwks_uri', { issuer }, 'has no jwks_uri'],
    ['not an object', 'hello', 'names issuer'],
  ])('refuses a document with %s', (_case, document, message) => {
    expect(() => jwksUriFrom(document, issuer)).toThrow(message);
  });
});

describe('signingAlgorithms', () => {
  it("takes a key's own alg", () => {
    expect(signingAlgorithms({ keys: [{ kty: 'RSA', alg: 'PS256', use: 'sig' }] })).toEqual([
      'PS256',
    ]);
  });

  it('allows the algorithms of the key type when the key names none', () => {
    expect(signingAlgorithms({ keys: [{ kty: 'EC', crv: 'P-256' }] })).toEqual(['ES256']);
    expect(signingAlgorithms({ keys: [{ kty: 'OKP', crv: 'Ed25519' }] })).toEqual([
      'EdDSA',
      'Ed25519',
    ]);
    expect(signingAlgorithms({ keys: [{ kty: 'RSA' }] })).toContain('RS256');
  });

  it('never allows a symmetric algorithm, an encryption key or an alg its key cannot make', () => {
    expect(
      signingAlgorithms({
        keys: [
          { kty: 'oct', alg: 'HS256' },
          { kty: 'RSA', alg: 'RSA-OAEP', use: 'enc' },
          { kty: 'RSA', use: 'enc' },
          { kty: 'RSA', alg: 'HS256' },
          { kty: 'EC', crv: 'P-256', alg: 'none' },
        ],
      }),
    ).toEqual([]);
  });

  it('unites the algorithms of several keys (a rotation in progress)', () => {
    expect(
      signingAlgorithms({
        keys: [
          { kty: 'RSA', alg: 'RS256' },
          { kty: 'EC', crv: 'P-384', alg: 'ES384' },
        ],
      }).sort(),
    ).toEqual(['ES384', 'RS256']);
  });
});
