// The chaos suite (issue 6): orders flow continuously — all three strategies, contended products,
// customers too poor to pay — while every service is SIGKILLed several times, a Redis node of
// the quorum is stopped for a while, the Kafka broker is stopped and Postgres crashes. Then,
// within 60 s of the last restart, every order must be COMPLETED or CANCELLED and every
// CONTRACT.md invariant hold. It runs on servers of its own (test/chaos/support/chaos-servers.ts),
// never the shared ones. CHAOS_SEED=<n> replays a run's workload and fault plan.
//
//   npm run test:chaos
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { authorization, OPERATOR } from '../support/tokens.js';
import { describeFault, FaultInjector, planFaults } from './support/faults.js';
import { Fleet, SERVICES } from './support/fleet.js';
import { checkInvariants, waitUntilTerminal } from './support/invariants.js';
import { chaosSeed, Random } from './support/random.js';
import { CHAOS_INFRA_DIR, startChaosServers, stopChaosServers } from './support/chaos-servers.js';
import { Timeline } from './support/timeline.js';
import { makeCatalog, sleep, Workload } from './support/workload.js';

/** Faults start within this much of the load; the load goes on a little after the last one. */
const FAULT_WINDOW_MS = 90_000;
const LOAD_AFTER_LAST_FAULT_MS = 5_000;
/** Each waits for its order's outcome before the next: enough for contention on scarce stock. */
const CLIENTS = 8;
/** CONTRACT.md: with processes killed and restarted, terminal within 60 s of the last restart. */
const TERMINAL_WITHIN_MS = 60_000;

const seed = chaosSeed();
const random = new Random(seed);
const timeline = new Timeline();
const fleet = new Fleet(timeline);
const run = `s${seed}`;
const catalog = makeCatalog(random.fork(), run);

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await authorization(OPERATOR)) },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
}

describe(`orders under faults (CHAOS_SEED=${seed})`, () => {
  beforeAll(async () => {
    timeline.log(`CHAOS_SEED=${seed} (run again with this seed to replay the plan)`);
    await startChaosServers(async () => {
      timeline.log('postgres and redis up; starting kafka and the services');
      await Promise.all(SERVICES.map((name) => fleet.start(name)));
    });
    timeline.log(`chaos servers up (state in ${CHAOS_INFRA_DIR}), services healthy`);
    for (const p of catalog.products) {
      await post(`${fleet.url('inventory')}/products`, {
        sku: p.sku,
        name: p.sku,
        priceCents: p.priceCents,
        stock: p.stock,
      });
    }
    for (const c of catalog.customers) await post(`${fleet.url('payment')}/accounts`, c);
    timeline.log(
      `${catalog.products.length} products and ${catalog.customers.length} accounts created`,
    );
  }, 300_000);

  afterAll(async () => {
    await fleet.stopAll();
    const problems = await stopChaosServers();
    timeline.log(
      problems.length === 0 ? 'chaos servers stopped' : `!! teardown: ${problems.join('; ')}`,
    );
  }, 120_000);

  it('finishes every order and keeps every invariant', async () => {
    const plan = planFaults(random.fork(), FAULT_WINDOW_MS);
    timeline.log(`fault plan: ${plan.map(describeFault).join(', ')}`);
    const workload = new Workload(random.fork(), fleet, timeline, catalog, run);
    const injector = new FaultInjector(fleet, timeline);

    timeline.log(`load: ${CLIENTS} clients placing orders`);
    workload.start(CLIENTS);
    const faultError = await injector.run(plan).then(
      () => undefined,
      (error: Error) => error,
    );
    await sleep(LOAD_AFTER_LAST_FAULT_MS);
    const deadline = Math.max(injector.lastRecoveryAt, Date.now()) + TERMINAL_WITHIN_MS;
    timeline.log(`load stops; waiting for answers to orders in flight`);
    await workload.stop(deadline);

    const ids = workload.intents.flatMap((i) => (i.orderId ? [i.orderId] : []));
    timeline.log(
      `${ids.length} orders accepted; waiting until all are terminal (deadline: 60 s after the last restart)`,
    );
    const pending = await waitUntilTerminal(ids, deadline);
    timeline.log(
      pending.length === 0
        ? `all terminal ${((Date.now() - injector.lastRecoveryAt) / 1000).toFixed(1)}s after the last restart`
        : `!! ${pending.length} orders still PENDING 60 s after the last restart`,
    );

    const verdict = await checkInvariants(
      fleet,
      workload.intents,
      catalog.products,
      catalog.customers,
    );
    const violations = [
      ...(faultError ? [`a fault could not be injected or undone: ${faultError.message}`] : []),
      ...fleet.unexpectedExits,
      ...verdict.violations,
    ];

    const count = (predicate: (o: (typeof verdict.orders)[number]) => boolean) =>
      verdict.orders.filter(predicate).length;
    const reasons = new Map<string, number>();
    for (const o of verdict.orders)
      if (o.reason) reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
    const summary = [
      `CHAOS_SEED=${seed}`,
      `faults injected (${injector.done.length}/${plan.length}): ${injector.done.join(', ')}`,
      `orders placed ${workload.intents.length}, accepted ${ids.length}, POST attempts ${workload.intents.reduce((n, i) => n + i.attempts, 0)}`,
      `  saga ${count((o) => o.strategy === 'saga')}, tcc ${count((o) => o.strategy === 'tcc')}, 2pc ${count((o) => o.strategy === '2pc')}`,
      `  COMPLETED ${count((o) => o.status === 'COMPLETED')}, CANCELLED ${count((o) => o.status === 'CANCELLED')} (${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}), PENDING ${count((o) => o.status === 'PENDING')}`,
      `violations: ${violations.length}`,
      ...violations.slice(0, 50).map((v) => `  - ${v}`),
      ...(violations.length > 50 ? [`  … and ${violations.length - 50} more`] : []),
    ];
    timeline.log(`summary\n${summary.join('\n')}`);
    if (violations.length > 0) process.stdout.write(`${fleet.logTails()}\n`);
    expect(violations).toEqual([]);
  }, 600_000);
});
