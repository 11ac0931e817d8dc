import { describe, expect, it } from '@jest/globals';
import { requestHash } from './idempotency-keys.js';
import type { OrderRequest } from './order.js';

describe('requestHash', () => {
  const request: OrderRequest = {
    customerId: 'c-1',
    items: [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ],
    strategy: 'saga',
  };

  it('is a SHA-256 in hex, the same for the same request', () => {
    expect(requestHash(request)).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash(structuredClone(request))).toBe(requestHash(request));
  });

  it('ignores the order of fields, which JSON does not give a meaning', () => {
    const shuffled = {
      strategy: 'saga',
      items: [
        { quantity: 1, sku: 'A' },
        { quantity: 2, sku: 'B' },
      ],
      customerId: 'c-1',
    } as OrderRequest;
    expect(requestHash(shuffled)).toBe(requestHash(request));
  });

  it.each<[string, OrderRequest]>([
    ['another customer', { ...request, customerId: 'c-2' }],
    ['another strategy', { ...request, strategy: 'tcc' }],
    ['another quantity', { ...request, items: [request.items[0], { sku: 'B', quantity: 3 }] }],
    ['the lines reordered', { ...request, items: [...request.items].reverse() }],
    ['a line fewer', { ...request, items: [request.items[0]] }],
  ])('differs for %s', (_what, other) => {
    expect(requestHash(other)).not.toBe(requestHash(request));
  });
});
