import { describe, expect, it } from '@jest/globals';
import { actsFor, principalFromClaims, type Principal } from './principal.js';

describe('principalFromClaims', () => {
  it('reads an operator', () => {
    expect(principalFromClaims({ role: 'operator', sub: 'operator' })).toEqual({
      role: 'operator',
    });
  });

  it('reads a customer with its id', () => {
    expect(principalFromClaims({ role: 'customer', customer_id: 'customer-42' })).toEqual({
      role: 'customer',
      customerId: 'customer-42',
    });
  });

  it.each([
    ['no role', {}],
    ['an unknown role', { role: 'admin' }],
    ['a role of the wrong type', { role: ['operator'] }],
    ['a role in another case', { role: 'Operator' }],
    ['a customer without an id', { role: 'customer' }],
    ['a customer with an empty id', { role: 'customer', customer_id: '' }],
    ['a customer with a numeric id', { role: 'customer', customer_id: 42 }],
    ['a customer id outside the contract', { role: 'customer', customer_id: 'a b' }],
    ['a customer id over 64 characters', { role: 'customer', customer_id: 'c'.repeat(65) }],
    ['an operator that also names a customer', { role: 'operator', customer_id: 'c-1' }],
  ])('refuses %s', (_case, claims) => {
    expect(principalFromClaims(claims)).toBeUndefined();
  });
});

describe('actsFor', () => {
  const operator: Principal = { role: 'operator' };
  const customer: Principal = { role: 'customer', customerId: 'c-1' };

  it('lets an operator act for any customer', () => {
    expect(actsFor(operator, 'c-1')).toBe(true);
    expect(actsFor(operator, 'c-2')).toBe(true);
  });

  it('lets a customer act only for itself', () => {
    expect(actsFor(customer, 'c-1')).toBe(true);
    expect(actsFor(customer, 'c-2')).toBe(false);
    expect(actsFor(customer, 'C-1')).toBe(false);
  });
});
