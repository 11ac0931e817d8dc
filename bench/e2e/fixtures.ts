import { fetchToken } from '../../scripts/token-client.mjs';

/**
 * The bench's customers and products, made through the services' REST APIs by an operator,
 * with stock and funds enough that no order of the run can fail: it measures the happy path
 * only.
 */
export interface Fixtures {
  customers: string[];
  skus: string[];
  priceCents: number;
}

export const STOCK = 1_000_000_000;
export const BALANCE_CENTS = 1_000_000_000_000;
export const PRICE_CENTS = 250;

export async function createFixtures(
  urls: { payment: string; inventory: string },
  count: number,
): Promise<Fixtures> {
  const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const customers = Array.from({ length: count }, (_, i) => `bench-${run}-c${i}`);
  const skus = Array.from({ length: count }, (_, i) => `bench-${run}-p${i}`);
  // A few at a time: a burst of 128 requests would queue on the services' small pools.
  for (let i = 0; i < count; i += 8) {
    await Promise.all(
      customers.slice(i, i + 8).flatMap((customerId, j) => [
        post(`${urls.payment}/accounts`, { customerId, balanceCents: BALANCE_CENTS }),
        post(`${urls.inventory}/products`, {
          sku: skus[i + j],
          name: skus[i + j],
          priceCents: PRICE_CENTS,
          stock: STOCK,
        }),
      ]),
    );
  }
  return { customers, skus, priceCents: PRICE_CENTS };
}

/** Who a request is from: tokens come from the issuer (cached by the token client). */
export type Caller = { customerId: string } | { operator: true };

export async function post<T = unknown>(
  url: string,
  body: unknown,
  as: Caller = { operator: true },
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await fetchToken(as)}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (response.status >= 300)
    throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}
