/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750, 2.1; the scheme name is
 * case-insensitive, RFC 9110 11.1), or undefined when there is no such header or it is not one.
 */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/**
 * The `WWW-Authenticate` challenge of a refused request (RFC 6750, 3): bare when no token was
 * sent, with `invalid_token` and a short description when the token was wrong, with
 * `insufficient_scope` when the caller may not call the endpoint.
 */
export function bearerChallenge(
  error?: 'invalid_token' | 'insufficient_scope',
  description?: string,
): string {
  if (error === undefined) return 'Bearer';
  // A quoted-string: the description must not end the quotes early.
  const quoted = description?.replace(/["\\]/g, "'");
  return quoted === undefined
    ? `Bearer error="${error}"`
    : `Bearer error="${error}", error_description="${quoted}"`;
}
