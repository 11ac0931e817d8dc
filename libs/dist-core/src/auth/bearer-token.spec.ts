import { describe, expect, it } from '@jest/globals';
import { bearerChallenge, bearerToken } from './bearer-token.js';

describe('bearerToken', () => {
  it('reads the token of a Bearer header, the scheme in any case', () => {
    expect(bearerToken('Bearer eyJ.a-b_c.d~+/==')).toBe('eyJ.a-b_c.d~+/==');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER  abc ')).toBe('abc');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['the scheme alone', 'Bearer'],
    ['a token with spaces', 'Bearer a b'],
    ['a token with a quote', 'Bearer a"b'],
    ['two headers', ['Bearer a', 'Bearer b']],
  ])('finds none in %s', (_case, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});

describe('bearerChallenge', () => {
  it('is bare without an error', () => {
    expect(bearerChallenge()).toBe('Bearer');
  });

  it('names the error and a description with its quotes replaced', () => {
    expect(bearerChallenge('invalid_token', 'the token\'s "aud" claim')).toBe(
      `Bearer error="invalid_token", error_description="the token's 'aud' claim"`,
    );
    expect(bearerChallenge('insufficient_scope')).toBe('Bearer error="insufficient_scope"');
  });
});
