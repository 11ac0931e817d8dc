// What checking a bearer token costs a request, measured side by side in one run against the
// running native system (`npm start` or the test infra plus `npm run start:all`):
//   1. the in-process cost of TokenVerifier.verify (jose: RS256 signature, iss/aud/exp) on one
//      real token of the issuer, p50 over many calls;
//   2. the p50 of a whole authenticated request, GET /products/:sku with that token;
//   3. the p50 of the same route refused before any verification (no token: 401).
// The difference of 2 and 3 bounds what authentication adds to a request; 1 is its pure CPU.
//   npx tsx bench/auth-overhead.ts [inventory URL, default http://127.0.0.1:3002]
import { DEFAULTS } from '@app/dist-core/config';
import { TokenVerifier } from '@app/dist-core/auth';
import { fetchToken } from '../scripts/token-client.mjs';

const INVENTORY = process.argv[2] ?? 'http://127.0.0.1:3002';
const ROUNDS = 2_000;

const p50 = (samples: number[]): number => [...samples].sort((a, b) => a - b)[samples.length >> 1];

async function timed(round: () => Promise<unknown>, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await round();
    samples.push(performance.now() - started);
  }
  return samples;
}

const token = await fetchToken({ operator: true });
const verifier = await TokenVerifier.connect({
  AUTH_ISSUER: process.env.AUTH_ISSUER ?? DEFAULTS.AUTH_ISSUER,
  AUTH_AUDIENCE: process.env.AUTH_AUDIENCE ?? DEFAULTS.AUTH_AUDIENCE,
  AUTH_JWKS_URL: process.env.AUTH_JWKS_URL,
});
const sku = `AUTH-BENCH-${process.pid}`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const created = await fetch(`${INVENTORY}/products`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ sku, name: 'auth bench', priceCents: 100, stock: 1 }),
});
if (created.status !== 201) throw new Error(`POST /products answered ${created.status}`);

const get = (withToken: boolean) => async () => {
  const response = await fetch(`${INVENTORY}/products/${sku}`, withToken ? { headers } : {});
  await response.arrayBuffer();
  if (response.status !== (withToken ? 200 : 401)) throw new Error(`got ${response.status}`);
};
// Warm up both paths and the JIT, then alternate blocks so drift hits both alike.
await timed(get(true), 300);
await timed(get(false), 300);
await timed(() => verifier.verify(token), 1_000);
const verify: number[] = [];
const withToken: number[] = [];
const withoutToken: number[] = [];
for (let block = 0; block < 10; block++) {
  verify.push(...(await timed(() => verifier.verify(token), ROUNDS / 10)));
  withToken.push(...(await timed(get(true), ROUNDS / 10)));
  withoutToken.push(...(await timed(get(false), ROUNDS / 10)));
}
const row = (what: string, samples: number[]) =>
  console.log(`| ${what} | ${p50(samples).toFixed(3)} ms | ${samples.length} |`);
console.log('| what | p50 | samples |\n|---|---|---|');
row('TokenVerifier.verify (in process)', verify);
row('GET /products/:sku with a token (200)', withToken);
row('GET /products/:sku without a token (401, nothing verified)', withoutToken);
