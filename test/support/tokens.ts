import { fetchToken } from '../../scripts/token-client.mjs';

/**
 * Who a test request is from. Tokens come from the real issuer through the same client the
 * demo, bench and `npm run -s token` use; `anonymous` sends no Authorization header.
 */
export type Caller = { customerId: string } | { operator: true } | { token: string } | 'anonymous';

export const OPERATOR: Caller = { operator: true };
export const ANONYMOUS: Caller = 'anonymous';

export const asCustomer = (customerId: string): Caller => ({ customerId });

/** The Authorization header of a caller (none for `anonymous`). */
export async function authorization(caller: Caller): Promise<Record<string, string>> {
  if (caller === 'anonymous') return {};
  const token = 'token' in caller ? caller.token : await fetchToken(caller);
  return { authorization: `Bearer ${token}` };
}
