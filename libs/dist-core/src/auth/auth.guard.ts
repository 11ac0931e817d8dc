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
import { bearerChallenge, bearerToken } from './bearer-token.js';
import { mayCall, ROUTE_ACCESS, setPrincipal, type RouteAccess } from './route-access.js';
import { IssuerUnavailableError, TokenVerifier, type Verification } from './token-verifier.js';

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
    const token = bearerToken(request.headers.authorization);

    if (access === 'public') {
      // Open to all, but a valid token still names its caller (an operator sees more detail).
      if (token !== undefined) {
        const verification = await this.verify(token).catch(() => undefined);
        if (verification?.valid) setPrincipal(request, verification.principal);
      }
      return true;
    }

    if (token === undefined) {
      response.setHeader('WWW-Authenticate', bearerChallenge());
      throw new UnauthorizedException('Missing bearer token: send Authorization: Bearer <token>');
    }
    const verification = await this.verify(token);
    if (!verification.valid) {
      response.setHeader(
        'WWW-Authenticate',
        bearerChallenge('invalid_token', verification.problem),
      );
      throw new UnauthorizedException(`Invalid bearer token: ${verification.problem}`);
    }
    setPrincipal(request, verification.principal);
    if (!mayCall(access, verification.principal)) {
      response.setHeader('WWW-Authenticate', bearerChallenge('insufficient_scope'));
      throw new ForbiddenException(
        "Only an operator may call this endpoint; a customer's token may not",
      );
    }
    return true;
  }

  private async verify(token: string): Promise<Verification> {
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      // Not the caller's fault, and not a 500: the request may simply be tried again.
      this.logger.warn(error.message);
      throw new ServiceUnavailableException(
        'Tokens cannot be checked right now: try again shortly',
      );
    }
  }
}
