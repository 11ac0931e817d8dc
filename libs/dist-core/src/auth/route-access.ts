import {
  createParamDecorator,
  ForbiddenException,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import type { Principal } from './principal.js';

/**
 * Who may call a route. Unmarked routes are `operators`: a new endpoint is closed until someone
 * decides otherwise, rather than open because someone forgot.
 */
export type RouteAccess = 'public' | 'customers' | 'operators';

export const ROUTE_ACCESS = 'auth:route-access';

/** Anyone, without a token (health probes, the /ui page's static files). */
export const Public = () => SetMetadata(ROUTE_ACCESS, 'public' satisfies RouteAccess);

/**
 * Customers as well as operators. The handler still decides whose resource it is
 * (`actsFor`, `requireActsFor`): this only says a customer may ask.
 */
export const AllowCustomers = () => SetMetadata(ROUTE_ACCESS, 'customers' satisfies RouteAccess);

/** Whether a verified caller may call a route at all (before its input is validated). */
export function mayCall(access: RouteAccess, principal: Principal): boolean {
  return access !== 'operators' || principal.role === 'operator';
}

/** The caller the guard verified, per request (a request object is never reused). */
const principals = new WeakMap<object, Principal>();

export function setPrincipal(request: object, principal: Principal): void {
  principals.set(request, principal);
}

/** The verified caller; undefined only on a public route called without a valid token. */
export function principalOf(request: object): Principal | undefined {
  return principals.get(request);
}

/** Handler parameter: the verified caller of this request (see principalOf). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined =>
    principalOf(context.switchToHttp().getRequest<object>()),
);

/**
 * The "someone else's resource → 403" rule of CONTRACT.md, for resources whose existence a
 * customer may know of (its customerId in a body, a path or a query). Where even existence
 * must not leak (another customer's order), the handler answers 404 with `actsFor` instead.
 */
export function requireActsFor(principal: Principal, customerId: string): void {
  if (principal.role === 'customer' && principal.customerId !== customerId) {
    throw new ForbiddenException(
      `This token is customer ${principal.customerId}'s: it may not act for customer ${customerId}`,
    );
  }
}
