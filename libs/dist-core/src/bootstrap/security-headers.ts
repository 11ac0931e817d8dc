import helmet from 'helmet';

/**
 * Response headers that make a browser refuse what this service never means to allow (helmet's
 * defaults, tightened):
 * - `X-Content-Type-Options: nosniff`: a JSON answer echoing input is never run as a script;
 * - `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers): no page frames
 *   /ui or /docs to trick an operator into clicks (clickjacking);
 * - a CSP whose `script-src 'self'` runs only the scripts these services serve (/ui's app.js,
 *   Swagger UI's bundle), never inline or injected ones; `connect-src` lets /ui call this
 *   service and the issuer's token endpoint (the operator's sign-in, code + PKCE) and nothing
 *   else; `form-action` allows the issuer too, should the sign-in be a form. Inline styles stay allowed: Swagger UI sets them, and a style cannot run code.
 * Strict-Transport-Security is left to whatever terminates TLS in front of the services: they
 * speak plain HTTP themselves, and the header would pin a host name they do not own.
 */
export function securityHeaders(authIssuer: string) {
  const issuer = new URL(authIssuer).origin;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'", issuer],
        'form-action': ["'self'", issuer],
        'frame-ancestors': ["'none'"],
        // Plain HTTP natively: upgrading the page's requests to https would break it.
        'upgrade-insecure-requests': null,
      },
    },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: false,
  });
}
