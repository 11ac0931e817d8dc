import { describe, expect, it } from '@jest/globals';
import {
  defineSaga,
  SagaDefinitionError,
  type SagaCommand,
  type SagaPolicy,
} from './saga-definition.js';
import { backoffDelayMs } from '../engine/index.js';
import { SagaStateError } from './saga-machine.js';
import {
  InMemorySagaRunner,
  exampleOrderSaga,
  type ExampleOrderData,
  type FakeAnswer,
} from './testing/index.js';

const POLICY: Partial<SagaPolicy> = {
  stepTimeoutMs: 1_000,
  sagaTimeoutMs: 60_000,
  maxStepAttempts: 3,
  parkAfterAttempts: 4,
  backoff: { baseMs: 100, maxMs: 400 },
};

const DATA: ExampleOrderData = {
  customerId: 'alice',
  items: [
    { sku: 'apple', quantity: 2 },
    { sku: 'pear', quantity: 1 },
  ],
};

const OK: FakeAnswer = { outcome: 'SUCCESS' };
const PRICES: FakeAnswer = { outcome: 'SUCCESS', unitPriceCents: { apple: 150, pear: 300 } };

/** A runner whose participants all succeed, with overrides per command type. */
function runner(answers: Record<string, FakeAnswer | (() => FakeAnswer)> = {}) {
  const r = new InMemorySagaRunner(exampleOrderSaga, { policy: POLICY });
  const defaults: Record<string, FakeAnswer> = {
    'stock.reserve': PRICES,
    'stock.release': OK,
    'payment.charge': OK,
    'payment.refund': OK,
    'stock.confirm': OK,
  };
  for (const [type, answer] of Object.entries({ ...defaults, ...answers })) {
    r.participant(type, typeof answer === 'function' ? answer : () => answer);
  }
  return r;
}

function outcomes(r: InMemorySagaRunner<ExampleOrderData>, id: string): string[] {
  return r.history(id).map((h) => `${h.step}:${h.outcome}`);
}

describe('saga state machine', () => {
  it('runs the steps in order, merging reply data into the saga data', () => {
    const r = runner();
    r.start('1', DATA);
    r.run();

    const saga = r.instance('1');
    expect(saga.status).toBe('COMPLETED');
    expect(saga.data.unitPriceCents).toEqual({ apple: 150, pear: 300 });
    // Completed: the settled step's settlement goes out last, awaiting no reply.
    expect(r.commandTypes('1')).toEqual([
      'stock.reserve',
      'payment.charge',
      'stock.confirm',
      'payment.settle',
    ]);
    expect(r.sent[3]).toMatchObject({ kind: 'settlement', payload: { customerId: 'alice' } });
    expect(r.instance('1').awaitedCommandId).toBeNull();
    // The charge was built from the prices the reserve step's reply brought.
    expect(r.sent[1].payload).toEqual({ customerId: 'alice', amountCents: 600 });
    expect(outcomes(r, '1')).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:SUCCESS',
      'confirmStock:SUCCESS',
    ]);
    expect(r.terminals).toEqual([{ sagaId: '1', outcome: 'COMPLETED', reason: null }]);
  });

  it('compensates the completed steps in reverse order when a step fails', () => {
    const r = runner({ 'payment.charge': { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' } });
    r.start('1', DATA);
    r.run();

    expect(r.instance('1')).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
    // No refund: a definitive FAILURE means the charge changed nothing.
    expect(r.commandTypes('1')).toEqual(['stock.reserve', 'payment.charge', 'stock.release']);
    expect(outcomes(r, '1')).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:FAILURE',
      'reserveStock.compensation:SUCCESS',
    ]);
    expect(r.terminals).toEqual([
      { sagaId: '1', outcome: 'COMPENSATED', reason: 'INSUFFICIENT_FUNDS' },
    ]);
  });

  it('runs compensations in reverse order over several completed steps', () => {
    const saga = defineSaga<object>('three')
      .step('a', (s) => s.invoke(cmd('a')).withCompensation(cmd('undo-a')))
      .step('b', (s) => s.invoke(cmd('b')))
      .step('c', (s) => s.invoke(cmd('c')).withCompensation(cmd('undo-c')))
      .step('d', (s) => s.invoke(cmd('d')));
    const r = new InMemorySagaRunner(saga, { policy: POLICY });
    for (const type of ['a', 'b', 'c', 'undo-a', 'undo-c']) r.participant(type, () => OK);
    r.participant('d', () => ({ outcome: 'FAILURE', reason: 'NO' }));
    r.start('9', {});
    r.run();
    // b has nothing to undo and is skipped; c before a.
    expect(r.commandTypes('9')).toEqual(['a', 'b', 'c', 'd', 'undo-c', 'undo-a']);
    expect(r.instance('9').status).toBe('COMPENSATED');
  });

  it('ends COMPENSATED without a command when the first step fails', () => {
    const r = runner({ 'stock.reserve': { outcome: 'FAILURE', reason: 'OUT_OF_STOCK' } });
    r.start('1', DATA);
    r.run();
    expect(r.instance('1')).toMatchObject({ status: 'COMPENSATED', failureReason: 'OUT_OF_STOCK' });
    expect(r.commandTypes('1')).toEqual(['stock.reserve']);
  });

  it('applies a duplicate reply once', () => {
    const r = runner();
    r.start('1', DATA);
    const reserve = r.sent[0];
    expect(r.reply(reserve.id, PRICES as never)).toBe('APPLIED');
    expect(r.reply(reserve.id, PRICES as never)).toBe('NOT_AWAITED');
    expect(r.commandTypes('1')).toEqual(['stock.reserve', 'payment.charge']);
    expect(r.instance('1').currentStep).toBe('takePayment');
  });

  it('ignores a late reply to a command that timed out, and accepts the retry’s', () => {
    const r = runner({ 'stock.reserve': 'NO_REPLY' });
    r.start('1', DATA);
    const first = r.sent[0];
    r.advance(1_000); // reply deadline → backoff
    expect(r.instance('1')).toMatchObject({ awaitedCommandId: null, attempt: 1 });
    // Even inside the backoff, the first command's reply is no longer awaited.
    expect(r.reply(first.id, PRICES as never)).toBe('NOT_AWAITED');
    r.advance(100); // backoff over → the same request again, as a new message
    const second = r.sent[1];
    expect(second).toMatchObject({ type: 'stock.reserve', payload: first.payload });
    expect(second.id).not.toBe(first.id);
    expect(r.reply(first.id, PRICES as never)).toBe('NOT_AWAITED');
    expect(r.reply(second.id, PRICES as never)).toBe('APPLIED');
    expect(r.instance('1').currentStep).toBe('takePayment');
  });

  it('a reply that lost to its timeout is ignored, and a timeout that lost to its reply does nothing', () => {
    const r = runner({ 'payment.charge': 'NO_REPLY' });
    r.start('1', DATA);
    r.deliver(); // reserve answered; charge never is
    const charge = r.sent.find((c) => c.type === 'payment.charge')!;
    r.advance(500);
    expect(r.reply(charge.id, { outcome: 'SUCCESS' })).toBe('APPLIED');
    const version = r.instance('1').version;
    r.advance(500); // the charge's old deadline: nothing is due any more
    expect(r.instance('1').version).toBe(version);
    expect(r.instance('1').currentStep).toBe('confirmStock');
  });

  it('retries a silent step with capped exponential backoff, then compensates it too (TIMEOUT)', () => {
    const r = runner({ 'payment.charge': 'NO_REPLY' });
    r.start('1', DATA);
    r.run();

    const charges = r.sent.filter((c) => c.type === 'payment.charge');
    expect(charges).toHaveLength(3);
    // Timeout 1000 + backoff (random 0.5 → 3/4 of 100·2^(n−1)).
    expect(charges[1].sentAt - charges[0].sentAt).toBe(1_000 + 75);
    expect(charges[2].sentAt - charges[1].sentAt).toBe(1_000 + 150);
    // The charge may have happened: its compensation runs (and must be a no-op if it did not).
    expect(r.commandTypes('1').slice(-2)).toEqual(['payment.refund', 'stock.release']);
    expect(r.instance('1')).toMatchObject({ status: 'COMPENSATED', failureReason: 'TIMEOUT' });
    expect(outcomes(r, '1')).toEqual([
      'reserveStock:SUCCESS',
      'takePayment:TIMEOUT',
      'takePayment:TIMEOUT',
      'takePayment:TIMEOUT',
      'takePayment.compensation:SUCCESS',
      'reserveStock.compensation:SUCCESS',
    ]);
  });

  it('compensates with TIMEOUT when the saga deadline passes before the pivot', () => {
    const r = new InMemorySagaRunner(exampleOrderSaga, {
      policy: { ...POLICY, sagaTimeoutMs: 1_500, maxStepAttempts: 100 },
    });
    r.participant('stock.reserve', () => 'NO_REPLY').participant('stock.release', () => OK);
    r.start('1', DATA);
    r.run();
    expect(r.instance('1')).toMatchObject({ status: 'COMPENSATED', failureReason: 'TIMEOUT' });
    expect(r.history('1')[1]).toMatchObject({ outcome: 'TIMEOUT', reason: 'SAGA_DEADLINE' });
    expect(Date.parse(r.history('1')[1].at) - r.instance('1').createdAt.getTime()).toBe(1_500);
  });

  it('retries a failing compensation until it parks; an operator retry finishes it', () => {
    let releaseWorks = false;
    const r = runner({
      'payment.charge': { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' },
      'stock.release': () => (releaseWorks ? OK : { outcome: 'FAILURE', reason: 'DB_DOWN' }),
    });
    r.start('1', DATA);
    r.run();

    const parked = r.instance('1');
    expect(parked).toMatchObject({
      status: 'PARKED',
      parkedFrom: 'COMPENSATING',
      currentStep: 'reserveStock',
      failureReason: 'INSUFFICIENT_FUNDS',
      awaitedCommandId: null,
    });
    expect(parked.parkedReason).toContain('compensation reserveStock failed 4 times');
    expect(r.commandTypes('1').filter((t) => t === 'stock.release')).toHaveLength(4);
    // Backoffs grow and stop at the cap: 75, 150, 300 (the 4th failure parks).
    const releases = r.sent.filter((c) => c.type === 'stock.release').map((c) => c.sentAt);
    expect(releases.slice(1).map((t, i) => t - releases[i])).toEqual([75, 150, 300]);

    r.run(); // parked sagas are not due: nothing happens on its own
    expect(r.instance('1').status).toBe('PARKED');

    releaseWorks = true;
    r.retryParked('1');
    r.run();
    expect(r.instance('1')).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
    expect(outcomes(r, '1').slice(-3)).toEqual([
      'reserveStock.compensation:PARKED',
      'reserveStock.compensation:RESUMED',
      'reserveStock.compensation:SUCCESS',
    ]);
    expect(r.terminals.map((t) => t.outcome)).toEqual(['PARKED', 'COMPENSATED']);
  });

  it('never compensates past the pivot: a failing step after it parks, and resumes', () => {
    let confirmWorks = false;
    const r = runner({
      'stock.confirm': () => (confirmWorks ? OK : { outcome: 'FAILURE', reason: 'LOCKED' }),
    });
    r.start('1', DATA);
    r.run();
    expect(r.instance('1')).toMatchObject({
      status: 'PARKED',
      parkedFrom: 'RUNNING',
      currentStep: 'confirmStock',
      sagaDeadline: null,
    });
    expect(r.commandTypes('1')).not.toContain('payment.refund');

    confirmWorks = true;
    r.retryParked('1');
    r.run();
    expect(r.instance('1').status).toBe('COMPLETED');
  });

  it('ignores the saga deadline once past the pivot', () => {
    const r = new InMemorySagaRunner(exampleOrderSaga, {
      policy: { ...POLICY, sagaTimeoutMs: 2_000, parkAfterAttempts: 50 },
    });
    let confirms = 0;
    r.participant('stock.reserve', () => PRICES)
      .participant('payment.charge', () => OK)
      .participant('stock.confirm', () => (++confirms < 5 ? 'NO_REPLY' : OK));
    r.start('1', DATA);
    r.run();
    expect(r.instance('1').status).toBe('COMPLETED');
    expect(r.now - r.instance('1').createdAt.getTime()).toBeGreaterThan(2_000);
  });

  it('never parks a command that only went unanswered: past the park budget, it is sent until answered', () => {
    let confirms = 0;
    let releases = 0;
    const r = runner({
      'stock.confirm': () => (++confirms <= 10 ? 'NO_REPLY' : OK),
    });
    r.start('1', DATA);
    r.run();
    expect(r.instance('1').status).toBe('COMPLETED');
    expect(confirms).toBe(11); // parkAfterAttempts is 4

    const compensating = runner({
      'payment.charge': { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' },
      'stock.release': () => (++releases <= 10 ? 'NO_REPLY' : OK),
    });
    compensating.start('2', DATA);
    compensating.run();
    expect(compensating.instance('2')).toMatchObject({
      status: 'COMPENSATED',
      failureReason: 'INSUFFICIENT_FUNDS',
    });
    expect(releases).toBe(11);
    expect(outcomes(compensating, '2')).not.toContain('reserveStock:PARKED');
  });

  it('answers FINISHED to a reply once the saga has ended', () => {
    const r = runner();
    r.start('1', DATA);
    r.run();
    expect(r.reply(r.sent[2].id, { outcome: 'SUCCESS' })).toBe('FINISHED');
  });

  it('refuses to resume a saga that is not parked', () => {
    const r = runner();
    r.start('1', DATA);
    expect(() => r.retryParked('1')).toThrow(SagaStateError);
  });
});

describe('saga definitions', () => {
  it('rejects a step name used twice', () => {
    const d = defineSaga<object>('x').step('a', (s) => s.invoke(cmd('a')));
    expect(() => d.step('a', (s) => s.invoke(cmd('b')))).toThrow(SagaDefinitionError);
  });

  it('rejects an undoable step after the pivot, and a compensation on a step past it', () => {
    const d = defineSaga<object>('x').step('a', (s) => s.invoke(cmd('a')).retriedUntilSuccess());
    expect(() => d.step('b', (s) => s.invoke(cmd('b')))).toThrow(/follows the pivot/);
    expect(() =>
      defineSaga<object>('y').step('a', (s) =>
        s.invoke(cmd('a')).withCompensation(cmd('u')).retriedUntilSuccess(),
      ),
    ).toThrow(/never compensated/);
  });

  it('rejects a settlement on a step that is never compensated', () => {
    expect(() =>
      defineSaga<object>('x').step('a', (s) => s.invoke(cmd('a')).settledBy(cmd('s'))),
    ).toThrow(/nothing for its settlement to close/);
  });

  it('is immutable: adding a step returns a new definition', () => {
    const one = defineSaga<object>('x').step('a', (s) => s.invoke(cmd('a')));
    const two = one.step('b', (s) => s.invoke(cmd('b')));
    expect(one.steps).toHaveLength(1);
    expect(two.steps.map((s) => s.name)).toEqual(['a', 'b']);
  });
});

describe('backoffDelayMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };
  it('doubles per attempt, is capped, and keeps at least half of the delay', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, policy, () => 1))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect([1, 2, 5].map((n) => backoffDelayMs(n, policy, () => 0))).toEqual([50, 100, 500]);
  });
});

function cmd(type: string): () => SagaCommand {
  return () => ({ topic: 't', type, payload: {} });
}
