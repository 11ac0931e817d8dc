// Kafka's door, against the real broker of `npm run infra:up` (or KAFKA_BROKERS): nobody gets
// in without a principal's password, and each service principal may do only its part of the
// order flow (the ACLs scripts/infra/kafka-access.mjs writes from the security design's table).
// Every refusal comes back as an error within seconds: a refused client must fail, not hang.
//
// The allowed reads consume in the services' own groups (the only groups their principals may
// use) without committing anything: a service running against the same broker sees one
// rebalance and then gets every message again from its committed offsets. The test messages are
// not envelopes, so a running service dead-letters them, as it does other suites' poison messages.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  Kafka,
  logLevel,
  type Consumer,
  type EachMessagePayload,
  type KafkaConfig,
  type SASLOptions,
} from 'kafkajs';
import { DEFAULTS, env, loadConfig, localSecret } from '@app/dist-core/config';
import { adminCredentials, saslOptions } from '@app/dist-core/kafka';

const { KAFKA_BROKERS } = loadConfig({ KAFKA_BROKERS: env.hostPorts(DEFAULTS.KAFKA_BROKERS) });

/** A refusal is an answer within this time, never a client that waits on. */
const REFUSED_WITHIN_MS = 10_000;

type Service = 'order' | 'payment' | 'inventory';

/** A service's principal, with the password the service itself finds (its local secret). */
function principal(service: Service): SASLOptions {
  const password = localSecret(`kafka-${service}`);
  if (!password) throw new Error(`no local secret kafka-${service}: run \`npm run infra:up\``);
  return saslOptions({ username: service, password });
}

/**
 * The errors the broker answered with, as kafkajs logs them. Some reach the caller only wrapped
 * in a generic one: a group the principal may not use surfaces as "Failed to find group
 * coordinator", while the broker's answer, logged here, was GROUP_AUTHORIZATION_FAILED.
 */
const brokerErrors: string[] = [];

const recordBrokerErrors: KafkaConfig['logCreator'] =
  () =>
  ({ log }) => {
    if (log.error) brokerErrors.push(`${log.message}: ${String(log.error)}`);
  };

function kafka(sasl: SASLOptions | undefined, clientId = 'kafka-security-test'): Kafka {
  const config: KafkaConfig = {
    clientId,
    brokers: KAFKA_BROKERS,
    // Few, short retries: a refusal must surface quickly (a hung client fails the time bound).
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 1, initialRetryTime: 100 },
    logLevel: logLevel.ERROR,
    logCreator: recordBrokerErrors,
  };
  return new Kafka(sasl ? { ...config, sasl } : config);
}

/**
 * Resolves if `attempt` is refused within REFUSED_WITHIN_MS: it rejects, and its error or the
 * broker's answer matches `error`.
 */
async function expectRefused(attempt: () => Promise<unknown>, error: RegExp): Promise<void> {
  brokerErrors.length = 0;
  const started = Date.now();
  const outcome = await Promise.race([
    attempt().then(
      () => ({ refused: false, message: 'allowed' }),
      (reason: unknown) => ({
        refused: true,
        message: String((reason as Error)?.message ?? reason),
      }),
    ),
    new Promise<{ refused: false; message: string }>((resolve) =>
      setTimeout(
        () => resolve({ refused: false, message: `no answer in ${REFUSED_WITHIN_MS} ms` }),
        REFUSED_WITHIN_MS,
      ).unref(),
    ),
  ]);
  expect([outcome.message, ...brokerErrors].join('\n')).toMatch(error);
  expect(outcome.refused).toBe(true);
  expect(Date.now() - started).toBeLessThan(REFUSED_WITHIN_MS);
}

/** One message to each partition of `topic`, as `client`; rejects with the broker's refusal. */
async function produce(client: Kafka, topic: string, value: string): Promise<void> {
  const producer = client.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const partitions = [0, 1, 2];
    await producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition) => ({ partition, value })),
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Joins `groupId` as `client`, subscribed to `topic`, and resolves with the first record whose
 * value is `value` (the caller produces it once joined), or rejects with the error that stopped
 * the consumer. Nothing is committed.
 */
async function consumeOne(
  client: Kafka,
  groupId: string,
  topic: string,
  produceOnceJoined: (value: string) => Promise<void>,
): Promise<string> {
  const value = `kafka-security-test ${randomUUID()}`;
  const consumer: Consumer = client.consumer({
    groupId,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
    retry: { retries: 1, initialRetryTime: 100 },
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer.on(consumer.events.GROUP_JOIN, () => {
        produceOnceJoined(value).catch(reject);
      });
      const received = ({ message }: EachMessagePayload): Promise<void> => {
        if (message.value?.toString() === value) resolve(value);
        return Promise.resolve();
      };
      consumer
        .connect()
        .then(() => consumer.subscribe({ topics: [topic], fromBeginning: true }))
        .then(() => consumer.run({ autoCommit: false, eachMessage: received }))
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * A fresh broker creates its offsets topic on the first group request and answers "coordinator
 * not available" meanwhile: waited out here as admin, so that each test's few retries meet the
 * broker's real answer (a refusal or a join), not its start-up.
 */
beforeAll(async () => {
  const admin = kafka(saslOptions(adminCredentials())).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await admin.describeGroups(['order-service', 'payment-service', 'inventory-service']);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await admin.disconnect();
  }
}, 40_000);

describe('Kafka authentication', () => {
  it('refuses a client without credentials: it can neither produce nor consume', async () => {
    const anonymous = kafka(undefined);
    await expectRefused(() => produce(anonymous, 'inventory.commands', 'anonymous'), /./);
    await expectRefused(
      () => consumeOne(anonymous, 'inventory-service', 'inventory.commands', async () => {}),
      /./,
    );
  });

  it('refuses a wrong password', async () => {
    const wrong = kafka(saslOptions({ username: 'inventory', password: 'not-the-password' }));
    await expectRefused(
      () => produce(wrong, 'inventory.replies', 'wrong password'),
      /SASL SCRAM SHA512 authentication failed/,
    );
  });

  it('refuses a user that does not exist', async () => {
    const nobody = kafka(saslOptions({ username: 'mallory', password: 'anything' }));
    await expectRefused(
      () => produce(nobody, 'inventory.replies', 'unknown user'),
      /SASL SCRAM SHA512 authentication failed/,
    );
  });
});

describe('Kafka authorization: each service only its part', () => {
  const NOT_AUTHORIZED = /Not authorized to access topics/;
  const GROUP_NOT_AUTHORIZED = /Not authorized to access group/;

  it('inventory cannot write payment.replies or its own commands, nor read payment.commands', async () => {
    const inventory = kafka(principal('inventory'));
    await expectRefused(() => produce(inventory, 'payment.replies', 'forged'), NOT_AUTHORIZED);
    await expectRefused(() => produce(inventory, 'inventory.commands', 'forged'), NOT_AUTHORIZED);
    await expectRefused(
      () => consumeOne(inventory, 'inventory-service', 'payment.commands', async () => {}),
      NOT_AUTHORIZED,
    );
    await expectRefused(() => produce(inventory, 'payment.commands.dlq', 'x'), NOT_AUTHORIZED);
  });

  it("payment cannot write inventory's replies nor read inventory's commands", async () => {
    const payment = kafka(principal('payment'));
    await expectRefused(() => produce(payment, 'inventory.replies', 'forged'), NOT_AUTHORIZED);
    await expectRefused(
      () => consumeOne(payment, 'payment-service', 'inventory.commands', async () => {}),
      NOT_AUTHORIZED,
    );
  });

  it('order cannot write the replies nor read the commands', async () => {
    const order = kafka(principal('order'));
    await expectRefused(() => produce(order, 'inventory.replies', 'forged'), NOT_AUTHORIZED);
    await expectRefused(() => produce(order, 'payment.replies', 'forged'), NOT_AUTHORIZED);
    await expectRefused(
      () => consumeOne(order, 'order-service', 'inventory.commands', async () => {}),
      NOT_AUTHORIZED,
    );
  });

  it('2PC decisions: only order writes them, only their participant reads them', async () => {
    const inventory = kafka(principal('inventory'));
    const payment = kafka(principal('payment'));
    const order = kafka(principal('order'));
    // A participant forging its own commit would settle a branch no coordinator decided.
    await expectRefused(() => produce(inventory, 'inventory.decisions', 'forged'), NOT_AUTHORIZED);
    await expectRefused(() => produce(payment, 'inventory.decisions', 'forged'), NOT_AUTHORIZED);
    await expectRefused(() => produce(payment, 'payment.decisions', 'forged'), NOT_AUTHORIZED);
    await expectRefused(
      () => consumeOne(payment, 'payment-decisions', 'inventory.decisions', async () => {}),
      NOT_AUTHORIZED,
    );
    await expectRefused(
      () => consumeOne(order, 'order-service', 'payment.decisions', async () => {}),
      NOT_AUTHORIZED,
    );
    await expectRefused(() => produce(order, 'payment.decisions.dlq', 'x'), NOT_AUTHORIZED);
  });

  it("a service cannot consume in another service's group", async () => {
    const inventory = kafka(principal('inventory'));
    await expectRefused(
      () => consumeOne(inventory, 'payment-service', 'inventory.commands', async () => {}),
      GROUP_NOT_AUTHORIZED,
    );
    await expectRefused(
      () => consumeOne(inventory, 'payment-decisions', 'inventory.decisions', async () => {}),
      GROUP_NOT_AUTHORIZED,
    );
    await expectRefused(
      () =>
        consumeOne(
          kafka(principal('order')),
          'order-decisions',
          'inventory.replies',
          async () => {},
        ),
      GROUP_NOT_AUTHORIZED,
    );
  });

  it('nobody but admin reads a dead-letter topic', async () => {
    const order = kafka(principal('order'));
    await expectRefused(
      () => consumeOne(order, 'order-service', 'inventory.replies.dlq', async () => {}),
      NOT_AUTHORIZED,
    );
  });
});

describe('Kafka authorization: what each service does is allowed', () => {
  it.each([
    ['order', 'inventory.commands'],
    ['order', 'payment.commands'],
    ['order', 'inventory.replies.dlq'],
    ['order', 'payment.replies.dlq'],
    ['inventory', 'inventory.replies'],
    ['inventory', 'inventory.commands.dlq'],
    ['payment', 'payment.replies'],
    ['payment', 'payment.commands.dlq'],
    ['order', 'inventory.decisions'],
    ['order', 'payment.decisions'],
    ['inventory', 'inventory.decisions.dlq'],
    ['payment', 'payment.decisions.dlq'],
  ] as const)('%s writes %s', async (service, topic) => {
    await expect(produce(kafka(principal(service)), topic, 'allowed write')).resolves.toBe(
      undefined,
    );
  });

  it.each([
    ['inventory', 'inventory.commands', 'order', 'inventory-service'],
    ['payment', 'payment.commands', 'order', 'payment-service'],
    ['order', 'inventory.replies', 'inventory', 'order-service'],
    ['order', 'payment.replies', 'payment', 'order-service'],
    ['inventory', 'inventory.decisions', 'order', 'inventory-decisions'],
    ['payment', 'payment.decisions', 'order', 'payment-decisions'],
  ] as const)(
    '%s reads %s (written by %s) in its own group %s',
    async (reader, topic, writer, group) => {
      const value = await consumeOne(kafka(principal(reader)), group, topic, (marker) =>
        produce(kafka(principal(writer)), topic, marker),
      );
      expect(value).toMatch(/^kafka-security-test /);
    },
    30_000,
  );

  it('admin reads a dead-letter topic', async () => {
    const value = await consumeOne(
      kafka(saslOptions(adminCredentials())),
      `kafka-security-test-${randomUUID()}`,
      'inventory.commands.dlq',
      (marker) => produce(kafka(principal('inventory')), 'inventory.commands.dlq', marker),
    );
    expect(value).toMatch(/^kafka-security-test /);
  });
});
