#!/usr/bin/env node
// `npm run demo`: a tour of a running system. Seeds two products and two accounts (names carry
// a run suffix, so the demo can run again on the same databases), places a happy, an
// out-of-stock and a too-poor order with each strategy, waits for each to settle, prints a
// table of the outcomes and the URLs to look at. Exit 0 if every outcome is the expected one.
//
// It talks to the services over their REST APIs only, at ORDER_URL, PAYMENT_URL and
// INVENTORY_URL (default: CONTRACT.md's ports on 127.0.0.1), with tokens of the issuer as any
// client gets them (scripts/token-client.mjs): an operator's to seed, each customer's own to
// place and follow its orders.

import { fetchToken } from './token-client.mjs';

const ORDER_URL = process.env.ORDER_URL ?? 'http://127.0.0.1:3000';
const PAYMENT_URL = process.env.PAYMENT_URL ?? 'http://127.0.0.1:3001';
const INVENTORY_URL = process.env.INVENTORY_URL ?? 'http://127.0.0.1:3002';
/** CONTRACT.md: without faults, every order is terminal within 30 s. */
const SETTLE_TIMEOUT_MS = 30_000;
const STRATEGIES = ['saga', 'tcc', '2pc'];

const run = `demo-${Date.now().toString(36)}`;
const names = {
  coffee: `${run}-coffee`,
  rare: `${run}-rare`,
  alice: `${run}-alice`,
  bob: `${run}-bob`,
};

/** Each case: who orders what, and the outcome the system must reach. */
const CASES = [
  {
    name: 'happy',
    customerId: names.alice,
    items: [{ sku: names.coffee, quantity: 2 }],
    expect: { status: 'COMPLETED', reason: null },
  },
  {
    name: 'out-of-stock',
    customerId: names.alice,
    items: [{ sku: names.rare, quantity: 3 }],
    expect: { status: 'CANCELLED', reason: 'OUT_OF_STOCK' },
  },
  {
    name: 'too-poor',
    customerId: names.bob,
    items: [{ sku: names.coffee, quantity: 2 }],
    expect: { status: 'CANCELLED', reason: 'INSUFFICIENT_FUNDS' },
  },
];

const OPERATOR = { operator: true };

async function call(method, url, body, as = OPERATOR) {
  const headers = { authorization: `Bearer ${await fetchToken(as)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} → ${response.status} ${text}`);
  return JSON.parse(text);
}

/**
 * 'ok' (2xx), 'refused' (nothing listens: not started) or 'unhealthy' (a 503 or no answer in
 * time: starting up, or a dependency away for a moment).
 */
async function probe(url, headers = {}) {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.ok ? 'ok' : 'unhealthy';
  } catch (error) {
    return error?.cause?.code === 'ECONNREFUSED' ? 'refused' : 'unhealthy';
  }
}

/** Waits up to 20 s for a service that answers but is not healthy yet; gives up at once on none. */
async function isHealthy(url) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const health = await probe(url);
    if (health !== 'unhealthy' || Date.now() > deadline) return health === 'ok';
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function checkSystemIsUp() {
  const services = { order: ORDER_URL, payment: PAYMENT_URL, inventory: INVENTORY_URL };
  const down = [];
  for (const [name, url] of Object.entries(services)) {
    if (!(await isHealthy(`${url}/health`))) down.push(`${name} (${url}/health)`);
  }
  if (down.length === 0) {
    try {
      await fetchToken(OPERATOR);
      return;
    } catch (error) {
      down.push(`the identity issuer (${error.message})`);
    }
  }
  console.error(`The system is not up: no healthy answer from ${down.join(', ')}.`);
  console.error('Start it in another terminal, then run the demo again:');
  console.error('  npm run infra:up && npm run build && npm run start:all');
  console.error('(or `docker compose up --build`; ORDER_URL, PAYMENT_URL, INVENTORY_URL');
  console.error(' point the demo elsewhere)');
  process.exit(1);
}

async function seed() {
  await call('POST', `${INVENTORY_URL}/products`, {
    sku: names.coffee,
    name: 'Coffee beans 1 kg',
    priceCents: 1250,
    stock: 100,
  });
  await call('POST', `${INVENTORY_URL}/products`, {
    sku: names.rare,
    name: 'Rare tea (1 left)',
    priceCents: 4999,
    stock: 1,
  });
  // alice can pay for anything here; bob cannot pay for two bags of coffee (25.00).
  await call('POST', `${PAYMENT_URL}/accounts`, { customerId: names.alice, balanceCents: 100_000 });
  await call('POST', `${PAYMENT_URL}/accounts`, { customerId: names.bob, balanceCents: 500 });
}

async function settle(id, customerId) {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const order = await call('GET', `${ORDER_URL}/orders/${id}`, undefined, { customerId });
    if (order.status !== 'PENDING' || Date.now() > deadline) return order;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function placeAndSettle(strategy, example) {
  const customer = { customerId: example.customerId };
  const placed = await call(
    'POST',
    `${ORDER_URL}/orders`,
    { customerId: example.customerId, items: example.items, strategy },
    customer,
  );
  const order = await settle(placed.id, example.customerId);
  const expected = order.status === example.expect.status && order.reason === example.expect.reason;
  return {
    strategy,
    case: example.name,
    id: order.id,
    status: order.status,
    reason: order.reason ?? '-',
    total: order.totalCents === null ? '-' : (order.totalCents / 100).toFixed(2),
    // Measured by the order service: from placing the order to its last transition.
    ms:
      order.status === 'PENDING'
        ? '-'
        : String(Date.parse(order.updatedAt) - Date.parse(order.createdAt)),
    expected: expected
      ? 'yes'
      : `NO (expected ${example.expect.status} ${example.expect.reason ?? ''})`.trim(),
  };
}

function printTable(rows) {
  const columns = [
    ['strategy', 'strategy'],
    ['case', 'case'],
    ['order id', 'id'],
    ['status', 'status'],
    ['reason', 'reason'],
    ['total', 'total'],
    ['ms', 'ms'],
    ['as expected', 'expected'],
  ];
  const widths = columns.map(([title, key]) =>
    Math.max(title.length, ...rows.map((row) => row[key].length)),
  );
  const line = (cells) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(columns.map(([title]) => title)));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map(([, key]) => row[key])));
}

async function printUrls(rows) {
  const links = [
    [`${ORDER_URL}/ui`, 'recent orders, parked sagas (sign in as operator)'],
    [`${ORDER_URL}/ui?customer=${names.alice}`, "this run's orders of alice"],
    ...rows.map((row) => [
      `${ORDER_URL}/ui?order=${row.id}`,
      `timeline: ${row.strategy} ${row.case}`,
    ]),
  ];
  for (const [name, url] of [
    ['order', ORDER_URL],
    ['payment', PAYMENT_URL],
    ['inventory', INVENTORY_URL],
  ]) {
    links.push([`${url}/docs`, `${name}: Swagger`], [`${url}/health`, `${name}: health`]);
    const operator = { authorization: `Bearer ${await fetchToken(OPERATOR)}` };
    if ((await probe(`${url}/metrics`, operator)) === 'ok')
      links.push([`${url}/metrics`, `${name}: metrics (operator token)`]);
  }
  // Traces and dashboards exist only when they run (compose's observability profile).
  const jaeger = process.env.JAEGER_URL ?? 'http://127.0.0.1:16686';
  if ((await probe(jaeger)) === 'ok') links.push([jaeger, 'traces (Jaeger)']);
  const grafana = process.env.GRAFANA_URL;
  if (grafana && (await probe(grafana)) === 'ok') links.push([grafana, 'dashboards (Grafana)']);

  const width = Math.max(...links.map(([url]) => url.length));
  console.log('\nLook at:');
  for (const [url, what] of links) console.log(`  ${url.padEnd(width)}  ${what}`);
}

await checkSystemIsUp();
console.log(
  `Seeding products ${names.coffee}, ${names.rare} and accounts ${names.alice}, ${names.bob}...`,
);
await seed();
console.log(
  `Placing ${CASES.length * STRATEGIES.length} orders and waiting for each to settle...\n`,
);
// All at once: the flows run concurrently, as they would for real customers.
const rows = await Promise.all(
  STRATEGIES.flatMap((strategy) => CASES.map((example) => placeAndSettle(strategy, example))),
);
printTable(rows);
await printUrls(rows);
const unexpected = rows.filter((row) => row.expected !== 'yes');
if (unexpected.length > 0) {
  console.error(`\n${unexpected.length} of ${rows.length} orders did not end as expected.`);
  process.exit(2);
}
console.log(`\nAll ${rows.length} orders ended as expected.`);
