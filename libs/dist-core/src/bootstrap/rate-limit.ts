import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { DynamicModule, ExecutionContext, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type * as Throttler from '@nestjs/throttler';
import type { Request } from 'express';
import { principalOf } from '../auth/index.js';

/**
 * @nestjs/throttler, loaded when a service wires it rather than when this folder is imported:
 * it is CommonJS requiring the ESM-only @nestjs/common, which Node does (require of ESM) but
 * Jest's module runtime cannot, so a test importing anything from bootstrap/ would fail.
 */
const throttler = (): typeof Throttler =>
  createRequire(import.meta.url)('@nestjs/throttler') as typeof Throttler;

export interface RateLimitConfig {
  RATE_LIMIT_POSTS: number;
  RATE_LIMIT_WINDOW_SECONDS: number;
}

/**
 * Rate limits on the POST endpoints (the ones that write: orders, products, restocks, accounts,
 * deposits): each client may make RATE_LIMIT_POSTS requests to one endpoint per sliding window
 * of RATE_LIMIT_WINDOW_SECONDS; beyond that 429, in the error shape, with Retry-After. Reads
 * stay unlimited: they are cheap, and an operator's screen polls them.
 *
 * The counters live in each process: N instances let a client make N times the limit. That is
 * the point of a per-process limit — it stops one client from flooding one instance's database
 * pool and Kafka producer — not a quota; a shared quota would need a shared store (Redis).
 */
export function rateLimitModule(config: RateLimitConfig): DynamicModule {
  const windowSeconds = config.RATE_LIMIT_WINDOW_SECONDS;
  return throttler().ThrottlerModule.forRoot({
    throttlers: [{ limit: config.RATE_LIMIT_POSTS, ttl: windowSeconds * 1000 }],
    skipIf: (context) => !isHttpPost(context),
    getTracker: (req) => clientKey(req as Request),
    errorMessage: (_context, { limit, timeToBlockExpire }) =>
      `Too many requests: at most ${limit} POST requests per ${windowSeconds} s to this ` +
      `endpoint from one client; retry after ${timeToBlockExpire} s`,
  });
}

/** Among a module's providers: every route passes the limiter, which lets all but POST by. */
export function rateLimitGuard(): Provider {
  return { provide: APP_GUARD, useClass: throttler().ThrottlerGuard };
}

function isHttpPost(context: ExecutionContext): boolean {
  return (
    context.getType() === 'http' && context.switchToHttp().getRequest<Request>().method === 'POST'
  );
}

/**
 * Who a request counts against. A customer is counted by the customerId its verified token names
 * (AuthGuard, registered before the limiter, has set it), so fetching fresh tokens does not reset
 * its count, and customers behind one address (a NAT, the benchmark) are not throttled for each
 * other. Any other request with a token is counted by that token (only a hash is kept in memory),
 * one without by its address.
 */
export function clientKey(req: Pick<Request, 'headers' | 'ip'>): string {
  const principal = principalOf(req);
  if (principal?.role === 'customer') return `customer:${principal.customerId}`;
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('Bearer ')) {
    return `token:${createHash('sha256').update(authorization).digest('base64url')}`;
  }
  return `ip:${req.ip ?? 'unknown'}`;
}
