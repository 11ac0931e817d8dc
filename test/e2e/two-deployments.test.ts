// Two stacks on one Kafka cluster (issue 13): each deployment name (DEPLOYMENT) prefixes its
// topics and consumer groups, so a second system — a benchmark beside a running one, two teams'
// stacks — neither joins the other's groups nor takes the other's messages. Two full stacks, each
// with its own databases, run at once against the real broker: an order placed on each completes
// on its own stack, and each deployment's groups hold only that stack's one member.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { adminCredentials, saslOptions } from '@app/dist-core/kafka';
import { consumerGroupOf } from '@app/dist-core/kafka/testing';
import { KAFKA_BROKERS, runSuffix } from '../support/kafka.js';
import {
  startService,
  TEST_DEPLOYMENT,
  testPort,
  type RunningService,
  type ServiceName,
} from '../support/services.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { asCustomer } from '../support/tokens.js';

const RUN = runSuffix();
/** The second stack's deployment: one the broker's ACL table knows besides the tests' own. */
const OTHER_DEPLOYMENT = 'bench';
const SERVICES: ServiceName[] = ['order', 'payment', 'inventory'];

type Stack = Record<ServiceName, RunningService>;

/** A stack on its own ports (`offset`…`offset + 2`) with the given environment on top. */
function startStack(
  offset: number,
  env: Partial<Record<ServiceName, Record<string, string>>>,
): Stack {
  return {
    order: startService('order', { ORDER_PORT: testPort(offset), ...env.order }),
    payment: startService('payment', { PAYMENT_PORT: testPort(offset + 1), ...env.payment }),
    inventory: startService('inventory', {
      INVENTORY_PORT: testPort(offset + 2),
      ...env.inventory,
    }),
  };
}

/** Places one saga order for a fresh customer and product on `stack`; its terminal state. */
async function completeOrder(stack: Stack, name: string): Promise<{ status: string }> {
  const sku = `TWO-${name}-${RUN}`;
  const customer = `two-${name}-${RUN}`;
  const created = await Promise.all([
    stack.inventory.request('POST', '/products', { sku, name: sku, priceCents: 300, stock: 5 }),
    stack.payment.request('POST', '/accounts', { customerId: customer, balanceCents: 1000 }),
  ]);
  expect(created.map((answer) => answer.status)).toEqual([201, 201]);
  const placed = await stack.order.request<{ id: string }>(
    'POST',
    '/orders',
    { customerId: customer, items: [{ sku, quantity: 2 }] },
    asCustomer(customer),
  );
  expect(placed.status).toBe(202);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await stack.order.request<{ status: string }>(
      'GET',
      `/orders/${placed.body.id}`,
    );
    if (body.status !== 'PENDING' || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('two deployments on one Kafka cluster', () => {
  let first: Stack;
  let second: Stack;

  beforeAll(async () => {
    const [orders, payment, inventory] = await Promise.all(
      ['two_stacks_orders', 'two_stacks_payment', 'two_stacks_inventory'].map(ensureTestDatabase),
    );
    first = startStack(80, {});
    second = startStack(83, {
      order: { DEPLOYMENT: OTHER_DEPLOYMENT, ORDER_DB_SHARDS: orders },
      payment: { DEPLOYMENT: OTHER_DEPLOYMENT, PAYMENT_DB_URL: payment },
      inventory: { DEPLOYMENT: OTHER_DEPLOYMENT, INVENTORY_DB_URL: inventory },
    });
    const all = [...Object.values(first), ...Object.values(second)];
    await Promise.all(all.map((service) => service.waitForHealth(200, 120_000)));
  }, 180_000);

  afterAll(async () => {
    const all = [...Object.values(first ?? {}), ...Object.values(second ?? {})];
    await Promise.all(all.map((service) => service.stop()));
  });

  it('completes an order on each stack at the same time', async () => {
    const outcomes = await Promise.all([completeOrder(first, 'a'), completeOrder(second, 'b')]);
    expect(outcomes.map((order) => order.status)).toEqual(['COMPLETED', 'COMPLETED']);
  }, 60_000);

  it("keeps each deployment's consumer groups to its own stack", async () => {
    const admin = new Kafka({
      clientId: 'two-deployments-test',
      brokers: KAFKA_BROKERS,
      sasl: saslOptions(adminCredentials()),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      for (const deployment of [TEST_DEPLOYMENT, OTHER_DEPLOYMENT]) {
        const groupIds = SERVICES.map((service) => consumerGroupOf(deployment, service));
        const { groups } = await admin.describeGroups(groupIds);
        expect(
          groups.map((group) => ({ group: group.groupId, members: group.members.length })),
        ).toEqual(groupIds.map((group) => ({ group, members: 1 })));
      }
    } finally {
      await admin.disconnect();
    }
  });
});
