// The built payment service against the real servers: its REST API per CONTRACT.md (every kind of
// bad input a 4xx, never a 5xx), and its part in both order flows, driven as the order service
// drives it: command envelopes on payment.commands, replies read from payment.replies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULTS, env, loadConfig } from '@app/dist-core/config';
import { orderFlowMessages, TOPICS, type OrderFlowMessageType } from '@app/order-flow-api';
import type { Envelope, KafkaClient } from '@app/dist-core/kafka';
import { deadLetterTopic, encodeEnvelope, readDeadLetter } from '@app/dist-core/kafka/testing';
import { SnowflakeGenerator } from '@app/dist-core/snowflake';
import { Client } from 'pg';
import { connectKafka, eventually, runSuffix, TopicRecorder } from '../support/kafka.js';
import { startService, TEST_DEPLOYMENT, type RunningService } from '../support/services.js';

const RUN = runSuffix();
/** A worker id no service leases at the same time (they take the lowest free ones). */
const ids = new SnowflakeGenerator(1011);
/** The payment service's own database, as its role (the only one that may connect to it). */
const { PAYMENT_DB_URL } = loadConfig({ PAYMENT_DB_URL: env.postgresUrl(DEFAULTS.PAYMENT_DB_URL) });

interface Account {
  customerId: string;
  availableCents: number;
  frozenCents: number;
  spentCents: number;
}

let service: RunningService;
let kafka: KafkaClient;
let replies: TopicRecorder;
let deadLetters: TopicRecorder;
let customers = 0;

beforeAll(async () => {
  service = startService('payment');
  await service.waitForHealth(200, 120_000);
  kafka = await connectKafka(`test-e2e-payment-${RUN}`, TEST_DEPLOYMENT);
  replies = new TopicRecorder(kafka, `test-e2e-payment-replies-${RUN}`);
  deadLetters = new TopicRecorder(kafka, `test-e2e-payment-dlq-${RUN}`);
  await Promise.all([
    replies.start([TOPICS.paymentReplies]),
    deadLetters.start([deadLetterTopic(TOPICS.paymentCommands)]),
  ]);
}, 180_000);

afterAll(async () => {
  await replies?.stop();
  await deadLetters?.stop();
  await kafka?.disconnectProducer();
  await kafka?.disconnectAdmin();
  const exit = await service?.stop();
  expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  // No request or command reached the catch-all that answers 500.
  expect(service.output.join('')).not.toContain('HttpErrorFilter');
}, 60_000);

/** Sends JSON (or a raw string body) and returns the status and parsed body. */
async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  { raw = false } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await service.fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : raw ? (body as string) : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function newCustomerId(): string {
  customers += 1;
  return `pay-${RUN}-${customers}`;
}

async function openAccount(balanceCents: number): Promise<string> {
  const customerId = newCustomerId();
  const created = await call('POST', '/accounts', { customerId, balanceCents });
  expect(created.status).toBe(201);
  return customerId;
}

async function account(customerId: string): Promise<Account> {
  const { status, body } = await call('GET', `/accounts/${customerId}`);
  expect(status).toBe(200);
  return body as unknown as Account;
}

/** The figures, checked against the invariant: money only moves between them. */
async function figures(customerId: string, total: number): Promise<[number, number, number]> {
  const { availableCents, frozenCents, spentCents } = await account(customerId);
  expect(availableCents + frozenCents + spentCents).toBe(total);
  return [availableCents, frozenCents, spentCents];
}

// ---------------------------------------------------------------------------------------------

describe('payment REST API', () => {
  it('creates an account with its balance available', async () => {
    const customerId = newCustomerId();
    const created = await call('POST', '/accounts', { customerId, balanceCents: 12_345 });
    expect(created).toEqual({
      status: 201,
      body: { customerId, availableCents: 12_345, frozenCents: 0, spentCents: 0 },
    });
    expect(await account(customerId)).toEqual(created.body);
  });

  it('accepts a zero balance and the upper bound of 10^12 cents', async () => {
    for (const balanceCents of [0, 1_000_000_000_000]) {
      const customerId = newCustomerId();
      const created = await call('POST', '/accounts', { customerId, balanceCents });
      expect(created.status).toBe(201);
      expect(created.body.availableCents).toBe(balanceCents);
    }
  });

  it('answers 409 for an account that exists, leaving it unchanged', async () => {
    const customerId = await openAccount(500);
    const again = await call('POST', '/accounts', { customerId, balanceCents: 900 });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain(customerId);
    expect(await figures(customerId, 500)).toEqual([500, 0, 0]);
  });

  it('creates one account when the same customer is created concurrently', async () => {
    const customerId = newCustomerId();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/accounts', { customerId, balanceCents: 100 })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(7).fill(409)]);
    expect(await figures(customerId, 100)).toEqual([100, 0, 0]);
  });

  it('adds a deposit to the available balance', async () => {
    const customerId = await openAccount(1_000);
    const deposit = await call('POST', `/accounts/${customerId}/deposits`, { amountCents: 250 });
    expect(deposit).toEqual({
      status: 200,
      body: { customerId, availableCents: 1_250, frozenCents: 0, spentCents: 0 },
    });
    expect(await figures(customerId, 1_250)).toEqual([1_250, 0, 0]);
  });

  it('answers 404 for an unknown account, on GET and on a deposit', async () => {
    const unknown = newCustomerId();
    const get = await call('GET', `/accounts/${unknown}`);
    expect(get.status).toBe(404);
    expect(get.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect(get.body.message).toContain(unknown);
    const deposit = await call('POST', `/accounts/${unknown}/deposits`, { amountCents: 1 });
    expect(deposit.status).toBe(404);
    expect((await call('GET', `/accounts/${unknown}`)).status).toBe(404);
  });

  it('keeps every figure exact up to 2^53 - 1 cents and refuses a deposit beyond (409)', async () => {
    const customerId = await openAccount(0);
    // A long-lived account close to the cap: 9007 deposits of 10^12 would take minutes.
    const db = new Client({ connectionString: PAYMENT_DB_URL });
    await db.connect();
    try {
      await db.query('UPDATE accounts SET available_cents = $2 WHERE customer_id = $1', [
        customerId,
        String(Number.MAX_SAFE_INTEGER - 10),
      ]);
    } finally {
      await db.end();
    }
    const over = await call('POST', `/accounts/${customerId}/deposits`, { amountCents: 11 });
    expect(over.status).toBe(409);
    expect(over.body.message).toContain('amountCents');
    const exact = await call('POST', `/accounts/${customerId}/deposits`, { amountCents: 10 });
    expect(exact.status).toBe(200);
    expect(exact.body.availableCents).toBe(Number.MAX_SAFE_INTEGER);
    expect(await figures(customerId, Number.MAX_SAFE_INTEGER)).toEqual([
      Number.MAX_SAFE_INTEGER,
      0,
      0,
    ]);
  });

  const customerIdCases: [string, unknown][] = [
    ['missing', undefined],
    ['a number', 5],
    ['null', null],
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['with a space', 'a b'],
    ['with a slash', 'a/b'],
    ['not ASCII', 'kund-ü'],
  ];
  it.each(customerIdCases)('POST /accounts: customerId %s → 400 naming it', async (_c, value) => {
    const { status, body } = await call('POST', '/accounts', {
      customerId: value,
      balanceCents: 100,
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message).toContain('customerId');
    expect(body.message).not.toContain('balanceCents');
  });

  const balanceCases: [string, unknown][] = [
    ['missing', undefined],
    ['a numeric string', '5'],
    ['null', null],
    ['a boolean', true],
    ['negative', -1],
    ['fractional', 1.5],
    ['above 10^12', 1_000_000_000_001],
    ['far out of range', 1e300],
    ['an object', { cents: 5 }],
  ];
  it.each(balanceCases)('POST /accounts: balanceCents %s → 400 naming it', async (_c, value) => {
    const { status, body } = await call('POST', '/accounts', {
      customerId: newCustomerId(),
      balanceCents: value,
    });
    expect(status).toBe(400);
    expect(body.message).toContain('balanceCents');
    expect(body.message).not.toContain('customerId');
  });

  it('POST /accounts: an unknown field → 400 naming it, and no account is created', async () => {
    const customerId = newCustomerId();
    const { status, body } = await call('POST', '/accounts', {
      customerId,
      balanceCents: 100,
      frozenCents: 5,
    });
    expect(status).toBe(400);
    expect(body.message).toContain('frozenCents');
    expect((await call('GET', `/accounts/${customerId}`)).status).toBe(404);
  });

  const amountCases: [string, unknown][] = [
    ['missing', undefined],
    ['a numeric string', '5'],
    ['zero', 0],
    ['negative', -5],
    ['fractional', 0.5],
    ['above 10^12', 1_000_000_000_001],
  ];
  it.each(amountCases)('POST deposits: amountCents %s → 400 naming it', async (_c, value) => {
    const customerId = await openAccount(100);
    const { status, body } = await call('POST', `/accounts/${customerId}/deposits`, {
      amountCents: value,
    });
    expect(status).toBe(400);
    expect(body.message).toContain('amountCents');
    expect(await figures(customerId, 100)).toEqual([100, 0, 0]);
  });

  it('POST deposits: an unknown field → 400 naming it', async () => {
    const customerId = await openAccount(100);
    const { status, body } = await call('POST', `/accounts/${customerId}/deposits`, {
      amountCents: 5,
      currency: 'EUR',
    });
    expect(status).toBe(400);
    expect(body.message).toContain('currency');
    expect(await figures(customerId, 100)).toEqual([100, 0, 0]);
  });

  const badPathIds = ['a%20b', 'a'.repeat(65), 'k%C3%BC', 'a%2Fb', '%00', 'a*b'];
  it.each(badPathIds)('an illegal :customerId (%s) → 400 on GET and on deposits', async (id) => {
    for (const answer of [
      await call('GET', `/accounts/${id}`),
      await call('POST', `/accounts/${id}/deposits`, { amountCents: 1 }),
    ]) {
      expect(answer.status).toBe(400);
      // A control character is refused for the whole URL before routing, where no parameter
      // has a name yet; anything else by the parameter's own validation.
      expect(answer.body.message).toContain(id === '%00' ? 'URL path' : 'customerId');
    }
  });

  const malformedBodies: [string, string][] = [
    ['truncated JSON', '{"customerId": "x", "balanceCents": '],
    ['not JSON', 'customerId=x&balanceCents=5'],
    ['a JSON string', '"x"'],
    ['a JSON null', 'null'],
    ['a JSON array', '[{"customerId": "x", "balanceCents": 5}]'],
    ['an empty body', ''],
  ];
  it.each(malformedBodies)('POST /accounts with %s → 400', async (_c, text) => {
    for (const path of ['/accounts', `/accounts/${await openAccount(1)}/deposits`]) {
      const { status, body } = await call('POST', path, text, { raw: true });
      expect(status).toBe(400);
      expect(body.statusCode).toBe(400);
    }
  });

  it('answers 413 for a 2 MiB body, and keeps serving', async () => {
    const big = JSON.stringify({
      customerId: newCustomerId(),
      balanceCents: 1,
      pad: 'x'.repeat(2 ** 21),
    });
    const { status, body } = await call('POST', '/accounts', big, { raw: true });
    expect(status).toBe(413);
    expect(body.statusCode).toBe(413);
    expect((await call('GET', `/accounts/${newCustomerId()}`)).status).toBe(404);
  });

  it('documents every endpoint with examples at /docs', async () => {
    const { status, body } = await call('GET', '/docs-json');
    expect(status).toBe(200);
    const paths = body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/accounts'])).toEqual(['post']);
    expect(Object.keys(paths['/accounts/{customerId}/deposits'])).toEqual(['post']);
    expect(Object.keys(paths['/accounts/{customerId}'])).toEqual(['get']);
    const schemas = (body.components as { schemas: Record<string, { properties: object }> })
      .schemas;
    expect(schemas.CreateAccountDto.properties).toMatchObject({
      customerId: { example: 'customer-42' },
      balanceCents: { example: 100000 },
    });
    expect(schemas.AccountDto.properties).toMatchObject({ frozenCents: { example: 0 } });
  });
});

// ---------------------------------------------------------------------------------------------

type Command = Extract<OrderFlowMessageType, `payment.${string}`>;

/** Produces a command as the order service's outbox relay would: keyed by the order id. */
async function send(
  type: Command,
  orderId: string,
  payload: object,
  id = ids.nextId(),
): Promise<Envelope> {
  const envelope: Envelope = {
    id,
    type,
    correlationId: orderId,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload,
  };
  await kafka.producer.send({
    topic: orderFlowMessages.route(type).topic,
    acks: -1,
    messages: [{ key: orderId, value: encodeEnvelope(envelope) }],
  });
  return envelope;
}

function repliesTo(command: Envelope): Envelope[] {
  return replies
    .envelopesOf(TOPICS.paymentReplies)
    .filter((reply) => reply.causationId === command.id);
}

/** The reply to `command`, once it arrives: its type and payload. */
async function reply(command: Envelope): Promise<{ type: string; payload: unknown }> {
  await eventually(`a reply to ${command.type} ${command.id}`, () => repliesTo(command).length > 0);
  const [answer] = repliesTo(command);
  expect(answer.correlationId).toBe(command.correlationId);
  return { type: answer.type, payload: answer.payload };
}

/** Sends a command and waits for its reply. */
/** Waits until payment's inbox holds `command`: it was handled, its transaction committed. */
async function taken(command: Envelope): Promise<void> {
  const db = new Client({ connectionString: PAYMENT_DB_URL });
  await db.connect();
  try {
    await eventually(`payment took ${command.type} ${command.id}`, async () => {
      const { rowCount } = await db.query('SELECT 1 FROM inbox WHERE message_id = $1', [
        command.id,
      ]);
      return rowCount === 1;
    });
  } finally {
    await db.end();
  }
}

async function run(type: Command, orderId: string, payload: object) {
  return reply(await send(type, orderId, payload));
}

const SUCCESS = { outcome: 'SUCCESS' };
const failure = (reason: string) => ({ outcome: 'FAILURE', reason });

describe('payment participant of the TCC flow', () => {
  it('Try freezes the amount, Confirm captures it', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 3_000 };
    expect(await run('payment.tcc.try', orderId, funds)).toEqual({
      type: 'payment.tcc.reply',
      payload: SUCCESS,
    });
    expect(await figures(customerId, 10_000)).toEqual([7_000, 3_000, 0]);
    expect(await run('payment.tcc.confirm', orderId, funds)).toEqual({
      type: 'payment.tcc.reply',
      payload: SUCCESS,
    });
    expect(await figures(customerId, 10_000)).toEqual([7_000, 0, 3_000]);
  });

  it('Try freezes the amount, Cancel unfreezes it', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 4_000 };
    expect((await run('payment.tcc.try', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await figures(customerId, 10_000)).toEqual([6_000, 4_000, 0]);
    expect(await run('payment.tcc.cancel', orderId, funds)).toEqual({
      type: 'payment.tcc.reply',
      payload: SUCCESS,
    });
    expect(await figures(customerId, 10_000)).toEqual([10_000, 0, 0]);
  });

  it('dead-letters a Confirm or Cancel naming another amount or customer than its Try', async () => {
    const customerId = await openAccount(10_000);
    const other = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 2_500 };
    await run('payment.tcc.try', orderId, funds);
    const forged = [
      await send('payment.tcc.confirm', orderId, { ...funds, amountCents: 9_999 }),
      await send('payment.tcc.cancel', orderId, { ...funds, amountCents: 1 }),
      await send('payment.tcc.cancel', orderId, { ...funds, customerId: other }),
    ];
    const dlq = deadLetterTopic(TOPICS.paymentCommands);
    await eventually('every forged settlement dead-lettered', () =>
      forged.every((f) => deadLetters.of(dlq).some((m) => m.value?.toString().includes(f.id))),
    );
    for (const f of forged) {
      const letter = readDeadLetter(
        deadLetters.of(dlq).find((m) => m.value?.toString().includes(f.id))!,
      );
      expect(letter.error).toContain('differs from its Try');
      expect(repliesTo(f)).toHaveLength(0);
    }
    expect(await figures(customerId, 10_000)).toEqual([7_500, 2_500, 0]);
    expect(await figures(other, 10_000)).toEqual([10_000, 0, 0]);
    // The branch is still open: the real Confirm captures exactly the frozen amount.
    expect((await run('payment.tcc.confirm', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await figures(customerId, 10_000)).toEqual([7_500, 0, 2_500]);
  });

  it('Try with too little available → FAILURE INSUFFICIENT_FUNDS, nothing frozen', async () => {
    const customerId = await openAccount(1_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 1_001 };
    expect(await run('payment.tcc.try', orderId, funds)).toEqual({
      type: 'payment.tcc.reply',
      payload: failure('INSUFFICIENT_FUNDS'),
    });
    expect(await figures(customerId, 1_000)).toEqual([1_000, 0, 0]);
    // The coordinator then cancels the branch: nothing to undo, still SUCCESS.
    expect((await run('payment.tcc.cancel', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await figures(customerId, 1_000)).toEqual([1_000, 0, 0]);
  });

  it('Try for an unknown customer → FAILURE UNKNOWN_CUSTOMER', async () => {
    const orderId = ids.nextId();
    const customerId = newCustomerId();
    const funds = { orderId, customerId, amountCents: 1 };
    expect((await run('payment.tcc.try', orderId, funds)).payload).toEqual(
      failure('UNKNOWN_CUSTOMER'),
    );
    expect((await call('GET', `/accounts/${customerId}`)).status).toBe(404);
  });

  it('Try of exactly the available amount succeeds and leaves zero', async () => {
    const customerId = await openAccount(700);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 700 };
    expect((await run('payment.tcc.try', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await figures(customerId, 700)).toEqual([0, 700, 0]);
  });

  it('a re-sent Try (new message id) gets the same reply and freezes once', async () => {
    const customerId = await openAccount(5_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 2_000 };
    const first = await run('payment.tcc.try', orderId, funds);
    const again = await run('payment.tcc.try', orderId, funds);
    expect(again).toEqual(first);
    expect(await figures(customerId, 5_000)).toEqual([3_000, 2_000, 0]);
    // A failed Try re-sent gets the same FAILURE, even after a deposit that would cover it now.
    const poorOrder = ids.nextId();
    const tooMuch = { orderId: poorOrder, customerId, amountCents: 4_000 };
    expect((await run('payment.tcc.try', poorOrder, tooMuch)).payload).toEqual(
      failure('INSUFFICIENT_FUNDS'),
    );
    await call('POST', `/accounts/${customerId}/deposits`, { amountCents: 10_000 });
    expect((await run('payment.tcc.try', poorOrder, tooMuch)).payload).toEqual(
      failure('INSUFFICIENT_FUNDS'),
    );
    expect(await figures(customerId, 15_000)).toEqual([13_000, 2_000, 0]);
  });

  it('a redelivered Try (same message id) is applied once and answered once', async () => {
    const customerId = await openAccount(5_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 1_500 };
    const tryCommand = await send('payment.tcc.try', orderId, funds);
    await reply(tryCommand);
    await send('payment.tcc.try', orderId, funds, tryCommand.id);
    // Same key, same partition, handled in order: once the Confirm is answered, so was the copy.
    expect((await run('payment.tcc.confirm', orderId, funds)).payload).toEqual(SUCCESS);
    expect(repliesTo(tryCommand)).toHaveLength(1);
    expect(await figures(customerId, 5_000)).toEqual([3_500, 0, 1_500]);
  });

  it('a re-sent Confirm or Cancel is answered SUCCESS and applied once', async () => {
    const customerId = await openAccount(5_000);
    const confirmed = ids.nextId();
    const cancelled = ids.nextId();
    const confirmFunds = { orderId: confirmed, customerId, amountCents: 1_000 };
    const cancelFunds = { orderId: cancelled, customerId, amountCents: 2_000 };
    await run('payment.tcc.try', confirmed, confirmFunds);
    await run('payment.tcc.try', cancelled, cancelFunds);
    expect(await figures(customerId, 5_000)).toEqual([2_000, 3_000, 0]);
    for (let round = 0; round < 2; round += 1) {
      expect((await run('payment.tcc.confirm', confirmed, confirmFunds)).payload).toEqual(SUCCESS);
      expect((await run('payment.tcc.cancel', cancelled, cancelFunds)).payload).toEqual(SUCCESS);
      expect(await figures(customerId, 5_000)).toEqual([4_000, 0, 1_000]);
    }
  });

  it('a Cancel before the Try is a null compensation, and the late Try is refused', async () => {
    const customerId = await openAccount(5_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 1_000 };
    expect((await run('payment.tcc.cancel', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await run('payment.tcc.try', orderId, funds)).toEqual({
      type: 'payment.tcc.reply',
      payload: failure('REFUSED'),
    });
    expect(await figures(customerId, 5_000)).toEqual([5_000, 0, 0]);
  });

  it('a Confirm after a Cancel is refused and changes nothing', async () => {
    const customerId = await openAccount(5_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 1_000 };
    await run('payment.tcc.try', orderId, funds);
    await run('payment.tcc.cancel', orderId, funds);
    expect((await run('payment.tcc.confirm', orderId, funds)).payload).toEqual(failure('REFUSED'));
    expect(await figures(customerId, 5_000)).toEqual([5_000, 0, 0]);
  });

  it('concurrent Tries on one account freeze no more than it holds', async () => {
    const customerId = await openAccount(10_500);
    const orders = Array.from({ length: 20 }, () => ids.nextId());
    const commands = await Promise.all(
      orders.map((orderId) =>
        send('payment.tcc.try', orderId, { orderId, customerId, amountCents: 1_000 }),
      ),
    );
    const answers = await Promise.all(commands.map((command) => reply(command)));
    const outcomes = answers.map(
      (answer) => answer.payload as { outcome: string; reason?: string },
    );
    expect(outcomes.filter((o) => o.outcome === 'SUCCESS')).toHaveLength(10);
    expect(outcomes.filter((o) => o.reason === 'INSUFFICIENT_FUNDS')).toHaveLength(10);
    expect(await figures(customerId, 10_500)).toEqual([500, 10_000, 0]);
  });
});

describe('payment participant of the saga', () => {
  it('charge moves the amount straight to spent; refund gives it back', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 3_000 };
    expect(await run('payment.saga.charge', orderId, funds)).toEqual({
      type: 'payment.saga.reply',
      payload: SUCCESS,
    });
    expect(await figures(customerId, 10_000)).toEqual([7_000, 0, 3_000]);
    expect(await run('payment.saga.refund', orderId, funds)).toEqual({
      type: 'payment.saga.reply',
      payload: SUCCESS,
    });
    expect(await figures(customerId, 10_000)).toEqual([10_000, 0, 0]);
    // A re-sent refund (the orchestrator retries compensations) refunds nothing more.
    expect((await run('payment.saga.refund', orderId, funds)).payload).toEqual(SUCCESS);
    expect(await figures(customerId, 10_000)).toEqual([10_000, 0, 0]);
  });

  it('a re-sent charge (new message id) gets the same reply and charges once', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 2_500 };
    const first = await run('payment.saga.charge', orderId, funds);
    expect(await run('payment.saga.charge', orderId, funds)).toEqual(first);
    expect(await figures(customerId, 10_000)).toEqual([7_500, 0, 2_500]);
  });

  it('charge with too little available → FAILURE INSUFFICIENT_FUNDS, nothing charged', async () => {
    const customerId = await openAccount(2_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 2_001 };
    expect(await run('payment.saga.charge', orderId, funds)).toEqual({
      type: 'payment.saga.reply',
      payload: failure('INSUFFICIENT_FUNDS'),
    });
    expect(await figures(customerId, 2_000)).toEqual([2_000, 0, 0]);
  });

  it('charge for an unknown customer → FAILURE UNKNOWN_CUSTOMER', async () => {
    const orderId = ids.nextId();
    const funds = { orderId, customerId: newCustomerId(), amountCents: 10 };
    expect((await run('payment.saga.charge', orderId, funds)).payload).toEqual(
      failure('UNKNOWN_CUSTOMER'),
    );
  });

  it('settle closes a charge: a later refund is refused and the money stays spent', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 4_000 };
    expect((await run('payment.saga.charge', orderId, funds)).payload).toEqual(SUCCESS);
    // Nobody awaits a settlement's answer, so none is sent: wait for payment to take it.
    const settlements = [await send('payment.saga.settle', orderId, funds)];
    await taken(settlements[0]);
    expect(await figures(customerId, 10_000)).toEqual([6_000, 0, 4_000]);
    for (let round = 0; round < 2; round += 1) {
      expect((await run('payment.saga.refund', orderId, funds)).payload).toEqual(
        failure('REFUSED'),
      );
      settlements.push(await send('payment.saga.settle', orderId, funds));
      await taken(settlements.at(-1)!);
    }
    expect(await figures(customerId, 10_000)).toEqual([6_000, 0, 4_000]);
    // A reply to a settlement would have left before the refunds' replies (same key, same order).
    for (const settlement of settlements) expect(repliesTo(settlement)).toEqual([]);
  });

  it('a refund naming another amount than the charge is dead-lettered and refunds nothing', async () => {
    const customerId = await openAccount(10_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 3_000 };
    await run('payment.saga.charge', orderId, funds);
    const forged = await send('payment.saga.refund', orderId, { ...funds, amountCents: 6_000 });
    const dlq = deadLetterTopic(TOPICS.paymentCommands);
    await eventually(`${forged.id} in ${dlq}`, () =>
      deadLetters.of(dlq).some((m) => m.value?.toString().includes(forged.id)),
    );
    expect(repliesTo(forged)).toHaveLength(0);
    expect(await figures(customerId, 10_000)).toEqual([7_000, 0, 3_000]);
  });

  it('a refund before the charge is a null compensation, and the late charge is refused', async () => {
    const customerId = await openAccount(5_000);
    const orderId = ids.nextId();
    const funds = { orderId, customerId, amountCents: 1_000 };
    expect((await run('payment.saga.refund', orderId, funds)).payload).toEqual(SUCCESS);
    expect((await run('payment.saga.charge', orderId, funds)).payload).toEqual(failure('REFUSED'));
    expect(await figures(customerId, 5_000)).toEqual([5_000, 0, 0]);
  });
});

describe('malformed payment commands', () => {
  const valid = () => {
    const orderId = ids.nextId();
    return { orderId, customerId: 'cust-1', amountCents: 100 };
  };
  const cases: [string, (p: ReturnType<typeof valid>) => object, string][] = [
    ['amountCents a string', (p) => ({ ...p, amountCents: '100' }), 'amountCents'],
    ['amountCents negative', (p) => ({ ...p, amountCents: -1 }), 'amountCents'],
    ['amountCents zero', (p) => ({ ...p, amountCents: 0 }), 'amountCents'],
    ['amountCents fractional', (p) => ({ ...p, amountCents: 10.5 }), 'amountCents'],
    ['orderId zero', (p) => ({ ...p, orderId: '0' }), 'orderId'],
    ['orderId beyond 64 bits', (p) => ({ ...p, orderId: '9223372036854775808' }), 'orderId'],
    ['customerId illegal', (p) => ({ ...p, customerId: 'a b' }), 'customerId'],
    ['orderId a number', (p) => ({ ...p, orderId: 5 }), 'orderId'],
    ['orderId of another order', (p) => ({ ...p, orderId: ids.nextId() }), 'correlationId'],
    ['customerId missing', ({ orderId, amountCents }) => ({ orderId, amountCents }), 'customerId'],
  ];

  it.each(cases)('a command with %s lands in payment.commands.dlq', async (_c, spoil, field) => {
    const customerId = await openAccount(1_000);
    const funds = { ...valid(), customerId };
    const command = await send('payment.tcc.try', funds.orderId, spoil(funds));
    const dlq = deadLetterTopic(TOPICS.paymentCommands);
    await eventually(`${command.id} in ${dlq}`, () =>
      deadLetters.of(dlq).some((m) => m.value?.toString().includes(command.id)),
    );
    const letter = readDeadLetter(
      deadLetters.of(dlq).find((m) => m.value?.toString().includes(command.id))!,
    );
    expect(letter.error).toContain('InvalidMessageError');
    expect(letter.error).toContain(field);
    expect(letter.attempts).toBe(1);
    expect(letter.key).toBe(funds.orderId);
    expect(repliesTo(command)).toHaveLength(0);
    expect(await figures(customerId, 1_000)).toEqual([1_000, 0, 0]);
  });

  it('a value that is not an envelope lands in the dead-letter topic too', async () => {
    const key = `not-an-envelope-${RUN}`;
    await kafka.producer.send({
      topic: TOPICS.paymentCommands,
      acks: -1,
      messages: [{ key, value: '{"type": "payment.tcc.try"' }],
    });
    const dlq = deadLetterTopic(TOPICS.paymentCommands);
    await eventually(`${key} in ${dlq}`, () =>
      deadLetters.of(dlq).some((m) => m.key?.toString() === key),
    );
    const letter = readDeadLetter(deadLetters.of(dlq).find((m) => m.key?.toString() === key)!);
    expect(letter.error).toContain('Malformed envelope');
  });

  it('keeps consuming after dead letters', async () => {
    const customerId = await openAccount(1_000);
    const orderId = ids.nextId();
    expect(
      (await run('payment.tcc.try', orderId, { orderId, customerId, amountCents: 1 })).payload,
    ).toEqual(SUCCESS);
  });
});
