import { describe, expect, it } from '@jest/globals';
import { ForbiddenException } from '@nestjs/common';
import type { Principal } from './principal.js';
import { mayCall, requireActsFor, type RouteAccess } from './route-access.js';

const operator: Principal = { role: 'operator' };
const customer: Principal = { role: 'customer', customerId: 'c-1' };

describe('mayCall', () => {
  it.each<[RouteAccess, Principal, boolean]>([
    ['operators', operator, true],
    ['operators', customer, false],
    ['customers', operator, true],
    ['customers', customer, true],
    ['public', operator, true],
    ['public', customer, true],
  ])('%s route, %j → %s', (access, principal, expected) => {
    expect(mayCall(access, principal)).toBe(expected);
  });
});

describe('requireActsFor', () => {
  it('lets a customer through for itself and an operator for anyone', () => {
    expect(() => requireActsFor(customer, 'c-1')).not.toThrow();
    expect(() => requireActsFor(operator, 'c-2')).not.toThrow();
  });

  it("answers 403 naming both customers for another customer's resource", () => {
    expect(() => requireActsFor(customer, 'c-2')).toThrow(ForbiddenException);
    expect(() => requireActsFor(customer, 'c-2')).toThrow(
      "This token is customer c-1's: it may not act for customer c-2",
    );
  });
});
