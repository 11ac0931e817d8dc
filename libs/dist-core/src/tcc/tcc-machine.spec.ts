import { describe, expect, it } from '@jest/globals';
import type { TccOp } from '../barrier/index.js';
import { backoffDelayMs, type FlowReply } from '../engine/index.js';
import type { TccDefinition, TccPolicy, TccTransaction } from './tcc-definition.js';
import {
  beginTransition,
  dueTransition,
  replyTransition,
  type MachineContext,
  type TccTransition,
} from './tcc-machine.js';

interface OrderInput {
  customerId: string;
  items: { sku: string; quantity: number }[];
}

/** The order flow's shape: payment's Try needs the total that inventory's Try priced. */
const orderTcc: TccDefinition<OrderInput> = {
  kind: 'order-test',
  branches: [
    {
      name: 'inventory',
      topics: {
        try: 'inventory.commands',
        confirm: 'inventory.commands',
        cancel: 'inventory.commands',
      },
      types: { try: 'inv.try', confirm: 'inv.confirm', cancel: 'inv.cancel' },
      tryPayload: ({ input }) => ({ items: input.items }),
    },
    {
      name: 'payment',
      topics: { try: 'payment.commands', confirm: 'payment.commands', cancel: 'payment.commands' },
      types: { try: 'pay.try', confirm: 'pay.confirm', cancel: 'pay.cancel' },
      tryPayload: ({ input, results }) => ({
        customerId: input.customerId,
        amountCents: results.inventory.totalCents,
      }),
    },
  ],
};

const POLICY: TccPolicy = { tryTimeoutMs: 10_000, backoff: { baseMs: 1_000, maxMs: 8_000 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');

/**
 * Applies transitions as the Postgres coordinator does — version bump, command ids recorded as
 * awaited — but in memory, with a clock the test moves.
 */
class InMemoryTcc {
  now = T0;
  tx: TccTransaction<OrderInput>;
  sent: { id: string; branch: string; op: TccOp; payload: object }[] = [];
  terminal: string | null = null;
  private ids = 0;

  constructor(input: OrderInput) {
    const transition = beginTransition(orderTcc, '42', input, this.ctx());
    this.tx = {
      gid: '42',
      kind: orderTcc.kind,
      input,
      ...transition.next,
      version: '0',
      leaseOwner: null,
      leaseUntil: null,
      createdAt: new Date(T0),
      updatedAt: new Date(T0),
    };
    this.record(transition);
  }

  ctx(): MachineContext {
    return { now: this.now, policy: POLICY, random: () => 0.5 };
  }

  reply(commandId: string | null, reply: FlowReply) {
    const transition = replyTransition(orderTcc, this.tx, commandId, reply, this.ctx());
    if (typeof transition === 'string') return transition;
    this.apply(transition);
    return 'APPLIED';
  }

  due(): boolean {
    const transition = dueTransition(orderTcc, this.tx, this.ctx());
    if (transition) this.apply(transition);
    return transition !== null;
  }

  /** The id of the last command sent to `branch` for `op`. */
  last(branch: string, op: TccOp): string {
    const found = this.sent.filter((s) => s.branch === branch && s.op === op).at(-1);
    if (!found) throw new Error(`nothing sent: ${branch}.${op}`);
    return found.id;
  }

  ops(): string[] {
    return this.sent.map((s) => `${s.branch}.${s.op}`);
  }

  private apply(transition: TccTransition) {
    this.tx = { ...this.tx, ...transition.next, version: String(Number(this.tx.version) + 1) };
    this.record(transition);
  }

  private record(transition: TccTransition) {
    for (const command of transition.send) {
      const id = String(++this.ids);
      const branch = this.tx.branches[command.branch];
      branch.awaitedCommandId = id;
      this.sent.push({ id, branch: branch.name, op: command.op, payload: branch.payload! });
    }
    this.terminal = transition.terminal ?? this.terminal;
  }
}

const INPUT: OrderInput = { customerId: 'c1', items: [{ sku: 'A', quantity: 2 }] };
const ok = (data: Record<string, unknown> = {}): FlowReply => ({ outcome: 'SUCCESS', ...data });
const fail = (reason: string): FlowReply => ({ outcome: 'FAILURE', reason });

describe('TCC state machine', () => {
  it('tries branches in order, feeding one reply into the next Try, then confirms all', () => {
    const tcc = new InMemoryTcc(INPUT);
    expect(tcc.ops()).toEqual(['inventory.try']);
    expect(tcc.tx.nextAttemptAt).toBe(T0 + POLICY.tryTimeoutMs);

    expect(tcc.reply(tcc.last('inventory', 'try'), ok({ totalCents: 1234 }))).toBe('APPLIED');
    expect(tcc.ops()).toEqual(['inventory.try', 'payment.try']);
    expect(tcc.sent[1].payload).toEqual({ customerId: 'c1', amountCents: 1234 });

    tcc.reply(tcc.last('payment', 'try'), ok());
    expect(tcc.tx.status).toBe('CONFIRMING');
    expect(tcc.ops().slice(2)).toEqual(['inventory.confirm', 'payment.confirm']);

    tcc.reply(tcc.last('payment', 'confirm'), ok());
    expect(tcc.tx.status).toBe('CONFIRMING');
    tcc.reply(tcc.last('inventory', 'confirm'), ok());
    expect(tcc.tx.status).toBe('CONFIRMED');
    expect(tcc.terminal).toBe('CONFIRMED');
    expect(tcc.tx.nextAttemptAt).toBeNull();
    expect(tcc.tx.history.map((h) => `${h.step} ${h.outcome}`)).toEqual([
      'inventory.try SUCCESS',
      'payment.try SUCCESS',
      'payment.confirm SUCCESS',
      'inventory.confirm SUCCESS',
    ]);
  });

  it('cancels on the first failed Try, sending no Try after it', () => {
    const tcc = new InMemoryTcc(INPUT);
    tcc.reply(tcc.last('inventory', 'try'), fail('OUT_OF_STOCK'));
    expect(tcc.tx).toMatchObject({ status: 'CANCELLING', reason: 'OUT_OF_STOCK' });
    // Payment was never tried, so no Try of it can arrive late: nothing to cancel there.
    expect(tcc.ops()).toEqual(['inventory.try', 'inventory.cancel']);
    tcc.reply(tcc.last('inventory', 'cancel'), ok());
    expect(tcc.tx.status).toBe('CANCELLED');
    expect(tcc.terminal).toBe('CANCELLED');
  });

  it('cancels every tried branch, the failed one included, when a later Try fails', () => {
    const tcc = new InMemoryTcc(INPUT);
    tcc.reply(tcc.last('inventory', 'try'), ok({ totalCents: 10 }));
    tcc.reply(tcc.last('payment', 'try'), fail('INSUFFICIENT_FUNDS'));
    expect(tcc.ops().slice(2)).toEqual(['inventory.cancel', 'payment.cancel']);
    expect(tcc.tx.reason).toBe('INSUFFICIENT_FUNDS');
  });

  it('cancels at the deadline, a Try that never answered included', () => {
    const tcc = new InMemoryTcc(INPUT);
    tcc.now = T0 + POLICY.tryTimeoutMs - 1;
    expect(tcc.due()).toBe(false);
    tcc.now = T0 + POLICY.tryTimeoutMs;
    expect(tcc.due()).toBe(true);
    expect(tcc.tx).toMatchObject({ status: 'CANCELLING', reason: 'TIMEOUT' });
    expect(tcc.tx.branches[0].try).toBe('TIMED_OUT');
    expect(tcc.ops()).toEqual(['inventory.try', 'inventory.cancel']);
    expect(tcc.tx.history.at(-1)).toMatchObject({ step: 'inventory.try', outcome: 'TIMEOUT' });
  });

  it('ignores a Try reply after the transaction was decided', () => {
    const tcc = new InMemoryTcc(INPUT);
    const tryId = tcc.last('inventory', 'try');
    tcc.now = T0 + POLICY.tryTimeoutMs;
    tcc.due();
    expect(tcc.reply(tryId, ok({ totalCents: 5 }))).toBe('NOT_AWAITED');
    expect(tcc.tx.status).toBe('CANCELLING');
  });

  it('lets the deadline win over a reply that arrives after it but before the poller', () => {
    const tcc = new InMemoryTcc(INPUT);
    tcc.now = T0 + POLICY.tryTimeoutMs + 5;
    expect(tcc.reply(tcc.last('inventory', 'try'), ok({ totalCents: 5 }))).toBe('APPLIED');
    expect(tcc.tx).toMatchObject({ status: 'CANCELLING', reason: 'TIMEOUT' });
    expect(tcc.ops()).toEqual(['inventory.try', 'inventory.cancel']);
  });

  it('applies a reply once: duplicates, unknown causations and replies after the end change nothing', () => {
    const tcc = new InMemoryTcc(INPUT);
    const tryId = tcc.last('inventory', 'try');
    tcc.reply(tryId, ok({ totalCents: 5 }));
    const before = structuredClone(tcc.tx);
    expect(tcc.reply(tryId, ok({ totalCents: 5 }))).toBe('NOT_AWAITED');
    expect(tcc.reply('999', ok())).toBe('NOT_AWAITED');
    expect(tcc.reply(null, ok())).toBe('NOT_AWAITED');
    expect(tcc.tx).toEqual(before);

    tcc.reply(tcc.last('payment', 'try'), fail('INSUFFICIENT_FUNDS'));
    const cancels = [tcc.last('inventory', 'cancel'), tcc.last('payment', 'cancel')];
    for (const id of cancels) tcc.reply(id, ok());
    expect(tcc.tx.status).toBe('CANCELLED');
    expect(tcc.reply(cancels[0], ok())).toBe('FINISHED');
  });

  it('re-sends Confirm to the branches still pending, with capped backoff, until they succeed', () => {
    const tcc = new InMemoryTcc(INPUT);
    tcc.reply(tcc.last('inventory', 'try'), ok({ totalCents: 5 }));
    tcc.reply(tcc.last('payment', 'try'), ok());
    const firstPaymentConfirm = tcc.last('payment', 'confirm');
    tcc.reply(tcc.last('inventory', 'confirm'), ok());
    tcc.reply(firstPaymentConfirm, fail('REFUSED')); // not a decision: sent again later
    expect(tcc.tx.status).toBe('CONFIRMING');
    expect(tcc.tx.attempts).toBe(1);

    // random() = 0.5 → 3/4 of the capped delay: 750 ms after round 1, then 1.5 s, 3 s, 6 s, 6 s.
    const delays: number[] = [];
    for (let round = 0; round < 5; round++) {
      const due = tcc.tx.nextAttemptAt!;
      tcc.now = due - 1;
      expect(tcc.due()).toBe(false);
      tcc.now = due;
      expect(tcc.due()).toBe(true);
      delays.push(tcc.tx.nextAttemptAt! - due);
    }
    expect(delays).toEqual([1_500, 3_000, 6_000, 6_000, 6_000]);
    expect(tcc.tx.attempts).toBe(6);
    // Only payment was pending; each round superseded the previous command.
    expect(tcc.ops().filter((op) => op === 'payment.confirm')).toHaveLength(6);
    expect(tcc.ops().filter((op) => op === 'inventory.confirm')).toHaveLength(1);
    expect(tcc.reply(firstPaymentConfirm, ok())).toBe('NOT_AWAITED');

    tcc.reply(tcc.last('payment', 'confirm'), ok());
    expect(tcc.tx.status).toBe('CONFIRMED');
    expect(tcc.due()).toBe(false);
  });

  it('never changes the transaction it was given', () => {
    const tcc = new InMemoryTcc(INPUT);
    const frozen = structuredClone(tcc.tx);
    replyTransition(
      orderTcc,
      tcc.tx,
      tcc.last('inventory', 'try'),
      ok({ totalCents: 1 }),
      tcc.ctx(),
    );
    dueTransition(orderTcc, tcc.tx, { ...tcc.ctx(), now: T0 + POLICY.tryTimeoutMs });
    expect(tcc.tx).toEqual(frozen);
  });
});

describe('phase-two re-sends', () => {
  it('double from the base, cap, and jitter within the upper half', () => {
    const low = [1, 2, 3, 4, 5, 9].map((a) => backoffDelayMs(a, POLICY.backoff, () => 0));
    const high = [1, 2, 3, 4, 5, 9].map((a) => backoffDelayMs(a, POLICY.backoff, () => 1));
    expect(low).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000]);
    expect(high).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });
});
