import { describe, expect, it } from '@jest/globals';
import { findUrlProblem } from './url-guard.js';

describe('findUrlProblem', () => {
  it.each(['/products/SKU-1', '/orders?customerId=c-1&limit=5', '/a%20b?q=%E2%9C%93', '/x/%ZZ'])(
    'passes %s',
    (url) => expect(findUrlProblem(url)).toBeNull(),
  );

  it.each([
    ['/products/a%00b', 'URL path must not contain control characters'],
    ['/products/%7F', 'URL path must not contain control characters'],
    ['/orders?customerId=a%0Ab', 'query parameter customerId must not contain'],
    ['/orders?a%01=1', 'a query parameter name must not contain'],
  ])('refuses %s', (url, message) => expect(findUrlProblem(url)).toContain(message));
});
