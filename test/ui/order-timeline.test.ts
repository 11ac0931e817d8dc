// The /ui page in a real headless Chromium (Debian's package, `npm run browser:install`), driven
// by playwright-core, against the three built services on the real Kafka, Postgres and Redis:
// orders placed through the API are found in the page's recent list or by URL, their timeline
// follows them from PENDING to COMPLETED or CANCELLED, compensations shown apart from the steps.
// The page is the operator's: it signs in through the real issuer's login page (authorization
// code + PKCE) before it shows anything, and signs out there too.
// Screenshots go to test-artifacts/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULTS, env, loadConfig, localSecret } from '@app/dist-core/config';
import { HashRing } from '@app/dist-core/hashing';
import { shardName } from '@app/dist-core/sharding';
import { composeSnowflakeId, MAX_WORKER_ID } from '@app/dist-core/snowflake';
import { runSuffix } from '../support/kafka.js';
import { startService, type RunningService } from '../support/services.js';
import { asCustomer } from '../support/tokens.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts');
const RUN = runSuffix();

interface Order {
  id: string;
  status: string;
  reason: string | null;
}

/**
 * A saga order PARKED in its compensation, written as the engine leaves one: the order PENDING,
 * the saga PARKED (from COMPENSATING, at reserveStock) with its history. Producing one for real
 * needs inventory to stay silent for ten sends of the release, which a test cannot arrange while
 * other checkouts' inventory instances share the consumer group. Everything after the fixture is
 * real: the admin list, the Retry button, the engine resuming, inventory answering the release
 * (a null compensation: nothing was reserved), the order settling.
 */
async function parkedSagaOrder(customerId: string, sku: string): Promise<string> {
  // A service would have to hold worker id MAX_WORKER_ID and issue this very sequence in this
  // millisecond to collide; the INSERT would then fail loudly rather than mix two orders.
  const id = composeSnowflakeId({
    timestampMs: Date.now(),
    workerId: MAX_WORKER_ID,
    sequence: Math.floor(Math.random() * 4096),
  });
  const shardUrls = loadConfig({
    ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
  }).ORDER_DB_SHARDS;
  // The order service's routing: HashRing over `shard-i` (OrderShards, orders/order.store.ts).
  const ring = new HashRing(shardUrls.map((_, i) => shardName(i)));
  const db = new pg.Client({ connectionString: shardUrls[ring.ownerIndex(id)] });
  await db.connect();
  try {
    const now = new Date();
    const reason = 'compensation reserveStock failed 10 times (last: TIMEOUT)';
    await db.query('BEGIN');
    await db.query(
      `INSERT INTO orders (id, customer_id, strategy, status, reason, items, created_at, updated_at)
       VALUES ($1, $2, 'saga', 'PENDING', NULL, $3::jsonb, $4, $4)`,
      [id, customerId, JSON.stringify([{ sku, quantity: 1, unitPriceCents: null }]), now],
    );
    await db.query(
      `INSERT INTO saga_instances (id, saga_type, status, current_step, attempt, data, version,
         failure_reason, parked_from, parked_reason, created_at, updated_at)
       VALUES ($1, 'order', 'PARKED', 'reserveStock', 10, $2::jsonb, 14, 'INSUFFICIENT_FUNDS',
         'COMPENSATING', $3, $4, $4)`,
      [
        id,
        JSON.stringify({ orderId: id, customerId, items: [{ sku, quantity: 1 }], priced: null }),
        reason,
        now,
      ],
    );
    for (const [step, kind, attempt, outcome, why] of [
      ['reserveStock', 'action', 1, 'SUCCEEDED', null],
      ['takePayment', 'action', 1, 'FAILED', 'INSUFFICIENT_FUNDS'],
      ['reserveStock', 'compensation', 10, 'PARKED', reason],
    ]) {
      await db.query(
        `INSERT INTO saga_steps (saga_id, step, kind, attempt, outcome, reason, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, step, kind, attempt, outcome, why, now],
      );
    }
    await db.query('COMMIT');
  } finally {
    await db.end();
  }
  return id;
}

describe('the /ui page in headless Chromium', () => {
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService;
  let browser: Browser;
  let page: Page;
  let coffee: string;
  let scarce: string;
  let rich: string;
  let poor: string;

  const call = async <T>(
    service: RunningService,
    method: string,
    path: string,
    body?: unknown,
    as?: Parameters<RunningService['request']>[3],
  ) => {
    const { status, body: json } = await service.request<T>(method, path, body, as);
    if (status >= 400) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(json)}`);
    return json;
  };

  /** Customers place their orders with their own tokens; the operator watches on the page. */
  const place = (strategy: 'saga' | 'tcc', customerId: string, sku: string, quantity: number) =>
    call<Order>(
      order,
      'POST',
      '/orders',
      { customerId, items: [{ sku, quantity }], strategy },
      asCustomer(customerId),
    );

  /** Through the issuer's own login page, as the operator does it: /ui → Sign in → back. */
  const signIn = async (target: Page) => {
    const password = localSecret('operator-password');
    if (!password)
      throw new Error('the local secret operator-password is missing (npm run infra:up)');
    await target.goto(`${order.url}/ui/`);
    await target.locator('#sign-in').click();
    await target.locator('#username').waitFor({ timeout: 15_000 });
    expect(new URL(target.url()).origin).not.toBe(new URL(order.url).origin);
    await target.locator('#username').fill('operator');
    await target.locator('#password').fill(password);
    await target.locator('button[type=submit]', { hasText: 'Sign in' }).click();
    await target.locator('#console').waitFor({ state: 'visible', timeout: 15_000 });
  };

  const screenshot = async (name: string) => {
    const path = `${ARTIFACTS}/${name}.png`;
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
  };

  /** The timeline's rows as `step service outcome`, in the order the page shows them. */
  const rows = (table: string) =>
    page
      .locator(`${table} tbody tr.step`)
      .evaluateAll((trs) =>
        trs.map((tr) =>
          [
            tr.getAttribute('data-step'),
            tr.querySelector('.service')?.textContent,
            tr.getAttribute('data-outcome'),
          ].join(' '),
        ),
      );

  const waitForStatus = (status: string) =>
    // CONTRACT.md: terminal within 30 s; the page polls a PENDING order every 0.7 s.
    page.locator(`#order-status [data-status="${status}"]`).waitFor({ timeout: 35_000 });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    order = startService('order');
    payment = startService('payment');
    inventory = startService('inventory');
    // Generous: on a loaded 2-core machine a start-up has been seen to take over 60 s.
    await Promise.all([order, payment, inventory].map((s) => s.waitForHealth(200, 100_000)));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox'],
      headless: true,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page);

    coffee = `ui-${RUN}-coffee`;
    scarce = `ui-${RUN}-scarce`;
    await call(inventory, 'POST', '/products', {
      sku: coffee,
      name: 'Coffee',
      priceCents: 1250,
      stock: 100,
    });
    await call(inventory, 'POST', '/products', {
      sku: scarce,
      name: 'Scarce',
      priceCents: 999,
      stock: 1,
    });
    rich = `ui-${RUN}-rich`;
    poor = `ui-${RUN}-poor`;
    await call(payment, 'POST', '/accounts', { customerId: rich, balanceCents: 1_000_000 });
    await call(payment, 'POST', '/accounts', { customerId: poor, balanceCents: 100 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([order, payment, inventory].map((s) => s?.stop()));
  });

  it('shows nothing but the sign-in to a browser that has not signed in', async () => {
    const stranger = await browser.newPage();
    try {
      await stranger.goto(`${order.url}/ui?order=1`);
      await stranger.locator('#signed-out').waitFor({ state: 'visible' });
      expect(await stranger.locator('#console').isHidden()).toBe(true);
      expect(await stranger.locator('#sign-out').isHidden()).toBe(true);
    } finally {
      await stranger.close();
    }
  });

  it('keeps the token in this tab only and sends it on its API calls', async () => {
    // Evaluated in the page (a string: the browser's globals are not this file's).
    const stored = await page.evaluate(
      '({ session: Object.keys(sessionStorage), local: localStorage.length })',
    );
    expect(stored).toEqual({ session: ['orders-ui.session'], local: 0 });
    const calls: (string | null)[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/admin/'))
        calls.push(request.headers().authorization ?? null);
    });
    await page.goto(`${order.url}/ui`);
    await page.locator('#parked').waitFor();
    await page.waitForTimeout(500);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((header) => /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(header ?? ''))).toBe(
      true,
    );
  });

  it('serves the page, its assets and its sign-in settings publicly, and 404s anything else under /ui', async () => {
    const settings = await fetch(`${order.url}/ui/config.json`);
    expect(settings.status).toBe(200);
    expect(await settings.json()).toEqual({
      issuer: process.env.AUTH_ISSUER ?? DEFAULTS.AUTH_ISSUER,
      clientId: 'orders-ui',
    });
    const html = await fetch(`${order.url}/ui`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const script = await fetch(`${order.url}/ui/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const path of ['/ui/nope.js', '/ui/..%2Fui.controller.js', '/ui/index.html']) {
      expect((await fetch(`${order.url}${path}`)).status).toBe(404);
    }
  });

  it("shows a saga order in its customer's recent list, and its timeline to COMPLETED", async () => {
    const placed = await place('saga', rich, coffee, 2);
    await page.goto(`${order.url}/ui`);
    // Filtered by customer: other suites' orders on the same databases cannot push ours out.
    await page.locator('#customer input[name=customer]').fill(rich);
    await page.locator('#customer button').click();
    expect(new URL(page.url()).searchParams.get('customer')).toBe(rich);
    const link = page.locator(`#recent-orders tr[data-order-id="${placed.id}"] a.order-link`);
    // The id as the API wrote it: a 64-bit decimal, never rounded through a JS number.
    expect(await link.textContent({ timeout: 15_000 })).toBe(placed.id);
    await link.click();
    expect(new URL(page.url()).searchParams.get('order')).toBe(placed.id);
    expect(await page.locator('#order-id').textContent()).toBe(placed.id);

    await waitForStatus('COMPLETED');
    expect(await rows('#steps')).toEqual([
      'reserveStock inventory SUCCESS',
      'takePayment payment SUCCESS',
      'confirmStock inventory SUCCESS',
    ]);
    expect(await page.locator('#order-total').textContent()).toBe('25.00');
    expect(await page.locator('#compensations').isHidden()).toBe(true);
    await screenshot('ui-saga-completed');

    // The recent list catches up with the settled order on its next refresh.
    await page
      .locator(`#recent-orders tr[data-order-id="${placed.id}"] [data-status="COMPLETED"]`)
      .waitFor({ timeout: 15_000 });
  });

  it('lists the newest orders of all customers for the page, newest first', async () => {
    const placed = await place('saga', rich, coffee, 1);
    const { items } = await call<{ items: Order[] }>(order, 'GET', '/admin/orders?limit=100');
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(100);
    const ids = items.map((o) => BigInt(o.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    // Ours is listed unless 100 newer orders (other suites share the databases) pushed it out.
    const oldestListed = ids.at(-1)!;
    if (oldestListed <= BigInt(placed.id)) expect(items.map((o) => o.id)).toContain(placed.id);
    else expect(items).toHaveLength(100);
    const bad = await order.fetch('/admin/orders?limit=0');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('limit');
  });

  it('follows a TCC order opened by URL to COMPLETED, each branch try and confirm', async () => {
    const placed = await place('tcc', rich, coffee, 1);
    await page.goto(`${order.url}/ui?order=${placed.id}`);
    await waitForStatus('COMPLETED');
    const steps = await rows('#steps');
    // The Trys run in order (payment needs the priced total); the Confirms go out together.
    expect(steps.slice(0, 2)).toEqual([
      'inventory.try inventory SUCCESS',
      'payment.try payment SUCCESS',
    ]);
    expect(steps.slice(2).sort()).toEqual([
      'inventory.confirm inventory SUCCESS',
      'payment.confirm payment SUCCESS',
    ]);
    expect(await page.locator('#compensations').isHidden()).toBe(true);
    await screenshot('ui-tcc-completed');
  });

  it('sets the compensation of a too-poor saga order apart from its steps', async () => {
    const placed = await place('saga', poor, coffee, 1);
    await page.goto(`${order.url}/ui?order=${placed.id}`);
    await waitForStatus('CANCELLED');
    expect(await page.locator('#order-reason').textContent()).toBe('INSUFFICIENT_FUNDS');
    expect(await rows('#steps')).toEqual([
      'reserveStock inventory SUCCESS',
      'takePayment payment FAILURE',
    ]);
    expect(await page.locator('#compensations').isVisible()).toBe(true);
    expect(await rows('#compensations')).toEqual(['reserveStock.compensation inventory SUCCESS']);
    await screenshot('ui-saga-compensated');
  });

  it('shows an out-of-stock TCC order CANCELLED with its failed Try', async () => {
    const placed = await place('tcc', rich, scarce, 5);
    await page.goto(`${order.url}/ui?order=${placed.id}`);
    await waitForStatus('CANCELLED');
    expect(await page.locator('#order-reason').textContent()).toBe('OUT_OF_STOCK');
    expect(await rows('#steps')).toContain('inventory.try inventory FAILURE');
    const undo = await rows('#compensations');
    expect(undo.every((row) => row.includes('.cancel '))).toBe(true);
    await screenshot('ui-tcc-out-of-stock');
  });

  it('lists a parked saga, and its Retry button resumes it until the order settles', async () => {
    const id = await parkedSagaOrder(poor, coffee);
    await page.goto(`${order.url}/ui`);
    const row = page.locator(`#parked-sagas tr[data-saga-id="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('td').allTextContents()).toEqual(
      expect.arrayContaining([id, 'PARKED', 'reserveStock']),
    );
    await screenshot('ui-parked-saga');

    await row.locator('button.retry').click();
    await page.locator('#parked-message', { hasText: `Saga ${id} resumed` }).waitFor();
    expect(await page.locator('#parked-message').textContent()).toBe(
      `Saga ${id} resumed: now COMPENSATING at reserveStock.`,
    );
    await page.goto(`${order.url}/ui?order=${id}`);
    await waitForStatus('CANCELLED');
    expect(await page.locator('#order-reason').textContent()).toBe('INSUFFICIENT_FUNDS');
    expect(await rows('#compensations')).toEqual([
      'reserveStock.compensation inventory PARKED',
      'reserveStock.compensation inventory RESUMED',
      'reserveStock.compensation inventory SUCCESS',
    ]);
    // Settled: no longer parked, and a second retry is refused by the admin API.
    expect(await page.locator(`#parked-sagas tr[data-saga-id="${id}"]`).count()).toBe(0);
    const again = await order.fetch(`/admin/sagas/${id}/retry`, { method: 'POST' });
    expect(again.status).toBe(409);
    await screenshot('ui-parked-saga-retried');
  });

  it('names the problem for an unknown or malformed order id', async () => {
    await page.goto(`${order.url}/ui?order=1`);
    await page.locator('#timeline-error').waitFor({ state: 'visible' });
    expect(await page.locator('#timeline-error').textContent()).toMatch(/^404: No order 1/);
    await page.locator('#lookup input[name=id]').fill('12abc');
    await page.locator('#lookup button').click();
    await page.locator('#timeline-error', { hasText: '400' }).waitFor();
    expect(await page.locator('#timeline-error').textContent()).toMatch(/id must be a positive/);
  });

  it('signs out at the issuer and comes back signed out', async () => {
    await page.goto(`${order.url}/ui`);
    await page.locator('#sign-out').click();
    // The issuer asks before it ends its session, then sends the browser back to /ui/.
    await page.locator('button', { hasText: 'Yes, sign me out' }).click();
    await page.locator('#signed-out').waitFor({ state: 'visible', timeout: 15_000 });
    expect(new URL(page.url()).pathname).toBe('/ui/');
    expect(await page.evaluate("sessionStorage.getItem('orders-ui.session')")).toBeNull();
  });
});
