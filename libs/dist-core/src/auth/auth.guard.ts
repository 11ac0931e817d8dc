import {
  ForbiddenException,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import {
  authenticate,
  authenticationOf,
  rememberAuthentication,
  type Authentication,
} from './authentication.js';
import { bearerChallenge } from './bearer-token.js';
import { mayCall, ROUTE_ACCESS, setPrincipal, type RouteAccess } from './route-access.js';
import { IssuerUnavailableError, TokenVerifier } from './token-verifier.js';

/**
 * Every HTTP request passes here before its pipes, which is what gives CONTRACT.md's order of
 * checks: 401 (no valid token), then 403 (a customer on an operator's endpoint), and only then
 * the handler's 400 (validation) and its own-resource 403/404.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Kafka handlers pass the same global guards; who may send them is the broker's to enforce.
    if (context.getType() !== 'http') return true;
    const access =
      this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'operators';
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();

    if (access === 'public') {
      // Open to all, but a valid token still names its caller (an operator may see more).
      const authentication = await this.authenticationOf(request).catch(() => undefined);
      if (authentication?.token === 'valid') setPrincipal(request, authentication.principal);
      return true;
    }

    const authentication = await this.authenticationOf(request);
    if (authentication.token === 'none') {
      response.setHeader('WWW-Authenticate', bearerChallenge());
      throw new UnauthorizedException(MISSING_TOKEN);
    }
    if (authentication.token === 'invalid') {
      response.setHeader(
        'WWW-Authenticate',
        bearerChallenge('invalid_token', authentication.problem),
      );
      throw new UnauthorizedException(`Invalid bearer token: ${authentication.problem}`);
    }
    setPrincipal(request, authentication.principal);
    if (!mayCall(access, authentication.principal)) {
      response.setHeader('WWW-Authenticate', bearerChallenge('insufficient_scope'));
      throw new ForbiddenException(
        "Only an operator may call this endpoint; a customer's token may not",
      );
    }
    return true;
  }

  /** The request's authentication, from the step before the body (if it ran) or checked now. */
  private async authenticationOf(request: Request): Promise<Authentication> {
    const known = authenticationOf(request);
    if (known) return known;
    try {
      const authentication = await authenticate(this.verifier, request.headers.authorization);
      rememberAuthentication(request, authentication);
      return authentication;
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      // Not the caller's fault, and not a 500: the request may simply be tried again.
      this.logger.warn(error.message);
      throw new ServiceUnavailableException(ISSUER_UNAVAILABLE);
    }
  }
}

export const MISSING_TOKEN = 'Missing bearer token: send Authorization: Bearer <token>';
export const ISSUER_UNAVAILABLE = 'Tokens cannot be checked right now: try again shortly';
