/**
 * Who is calling, as the services see it: an operator (may do everything) or one customer
 * (may touch only its own orders and account). Nothing else is a caller.
 */
export type Principal = { role: 'operator' } | { role: 'customer'; customerId: string };

/** CONTRACT.md: a customerId is 1–64 characters of [A-Za-z0-9._-]. */
const CUSTOMER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The principal a verified token's claims name (`role`, and `customer_id` for a customer),
 * or undefined when they name none exactly: an unknown role, a customer without a valid id,
 * an operator that also names a customer. An ambiguous token is refused rather than read
 * one way or the other.
 */
export function principalFromClaims(claims: Record<string, unknown>): Principal | undefined {
  const { role, customer_id: customerId } = claims;
  if (role === 'operator' && customerId === undefined) return { role: 'operator' };
  if (role === 'customer' && typeof customerId === 'string' && CUSTOMER_ID.test(customerId)) {
    return { role: 'customer', customerId };
  }
  return undefined;
}

/** Whether the principal may act for this customer: an operator for any, a customer for itself. */
export function actsFor(principal: Principal, customerId: string): boolean {
  return principal.role === 'operator' || principal.customerId === customerId;
}
