import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ISSUER_UNAVAILABLE, MISSING_TOKEN } from './auth.guard.js';
import { authenticate, rememberAuthentication } from './authentication.js';
import { bearerChallenge } from './bearer-token.js';
import { IssuerUnavailableError, type TokenVerifier } from './token-verifier.js';

/** Whether the request brings a body (RFC 9112 6.3: a length, or a transfer coding). */
function bringsBody(request: Request): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/**
 * Checks the token before the JSON body is read, which runs as Express middleware ahead of
 * Nest's guards. No public route takes a body, so a request with one and without a valid token
 * is answered 401 here: an anonymous client never has its body parsed, and gets CONTRACT.md's
 * 401 rather than a parse error. Everything else goes on to AuthGuard, which finds the result
 * remembered (each token is verified once) and decides per route. `errorBody` is the service's
 * error shape (the bootstrap's), so a refusal here reads like one from the guard.
 */
export function authenticateBeforeBody(
  verifier: TokenVerifier,
  errorBody: (statusCode: number, message: string) => object,
) {
  const logger = new Logger('Auth');
  return (request: Request, response: Response, next: NextFunction): void => {
    authenticate(verifier, request.headers.authorization).then(
      (authentication) => {
        rememberAuthentication(request, authentication);
        if (authentication.token === 'valid' || !bringsBody(request)) return next();
        // The body is not read: the connection cannot be reused for another request.
        response.setHeader('Connection', 'close');
        if (authentication.token === 'none') {
          response.setHeader('WWW-Authenticate', bearerChallenge());
          response.status(401).json(errorBody(401, MISSING_TOKEN));
        } else {
          response.setHeader(
            'WWW-Authenticate',
            bearerChallenge('invalid_token', authentication.problem),
          );
          response
            .status(401)
            .json(errorBody(401, `Invalid bearer token: ${authentication.problem}`));
        }
      },
      (error: unknown) => {
        if (!(error instanceof IssuerUnavailableError)) return next(error);
        logger.warn(error.message);
        response.status(503).json(errorBody(503, ISSUER_UNAVAILABLE));
      },
    );
  };
}
