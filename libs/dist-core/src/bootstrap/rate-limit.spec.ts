import { describe, expect, it } from '@jest/globals';
import { setPrincipal } from '../auth/route-access.js';
import { clientKey } from './rate-limit.js';

const request = (authorization?: string) => ({
  headers: authorization ? { authorization } : {},
  ip: '10.0.0.7',
});

describe('clientKey: who a POST counts against', () => {
  it('counts a customer by its verified customerId, whichever of its tokens it sends', () => {
    const [first, second] = [request('Bearer token-one'), request('Bearer token-two')];
    setPrincipal(first, { role: 'customer', customerId: 'customer-42' });
    setPrincipal(second, { role: 'customer', customerId: 'customer-42' });
    expect(clientKey(first)).toBe('customer:customer-42');
    expect(clientKey(second)).toBe(clientKey(first));
  });

  it('counts two customers behind one address apart', () => {
    const [alice, bob] = [request('Bearer a'), request('Bearer b')];
    setPrincipal(alice, { role: 'customer', customerId: 'alice' });
    setPrincipal(bob, { role: 'customer', customerId: 'bob' });
    expect(clientKey(alice)).not.toBe(clientKey(bob));
  });

  it('counts an operator by a hash of its token, never the token itself', () => {
    const operator = request('Bearer secret-operator-token');
    setPrincipal(operator, { role: 'operator' });
    expect(clientKey(operator)).toMatch(/^token:[A-Za-z0-9_-]{43}$/);
    expect(clientKey(operator)).not.toContain('secret-operator-token');
  });

  it('counts a request without a token by its address', () => {
    expect(clientKey(request())).toBe('ip:10.0.0.7');
  });
});
