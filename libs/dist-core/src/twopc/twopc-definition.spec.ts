import { describe, expect, it } from '@jest/globals';
import { InMemoryTccRunner } from '../tcc/testing/index.js';
import { defineTwoPhaseCommit } from './twopc-definition.js';

interface Input {
  customerId: string;
  items: { sku: string; quantity: number }[];
}

const at = (topic: string, type: string) => ({ topic, type });
const ok = () => ({ outcome: 'SUCCESS' as const });
const input: Input = { customerId: 'c-1', items: [{ sku: 'A', quantity: 2 }] };

const definition = defineTwoPhaseCommit<Input>('2pc-spec')
  .participant('inventory', (p) =>
    p
      .prepares(at('inventory.commands', 'inv.prepare'), ({ input }) => ({ items: input.items }))
      .committedBy(at('inventory.decisions', 'inv.commit'))
      .rolledBackBy(at('inventory.decisions', 'inv.rollback')),
  )
  .participant('payment', (p) =>
    p
      .prepares(at('payment.commands', 'pay.prepare'), ({ input, results }) => ({
        customerId: input.customerId,
        amountCents: results.inventory.totalCents,
      }))
      .committedBy(at('payment.decisions', 'pay.commit'))
      .rolledBackBy(at('payment.decisions', 'pay.rollback')),
  );

const POLICY = { tryTimeoutMs: 5_000, backoff: { baseMs: 1_000, maxMs: 4_000 } };

function runner() {
  return new InMemoryTccRunner(definition, { policy: POLICY })
    .participant('inv.prepare', () => ({ outcome: 'SUCCESS', totalCents: 500 }))
    .participant('inv.commit', ok)
    .participant('inv.rollback', ok)
    .participant('pay.prepare', ok)
    .participant('pay.commit', ok)
    .participant('pay.rollback', ok);
}

const lines = (run: InMemoryTccRunner<Input>, gid: string) =>
  run.history(gid).map((h) => `${h.step}:${h.outcome}`);

describe('a two-phase commit on the TCC machine', () => {
  it('prepares in order, then sends commit to every participant on its decisions topic', () => {
    const run = runner();
    run.begin('1', input);
    run.run();
    expect(run.sent.map((c) => `${c.topic} ${c.type}`)).toEqual([
      'inventory.commands inv.prepare',
      'payment.commands pay.prepare',
      'inventory.decisions inv.commit',
      'payment.decisions pay.commit',
    ]);
    // The payment prepare was priced by inventory's vote; the decision carries the same payload.
    const [prepare, commit] = run.sent.filter((c) => c.branch === 'payment');
    expect(prepare.payload).toEqual({
      customerId: 'c-1',
      amountCents: 500,
      gid: '1',
      branch: 'payment',
    });
    expect(commit.payload).toEqual(prepare.payload);
    expect(lines(run, '1')).toEqual([
      'inventory.prepare:SUCCESS',
      'payment.prepare:SUCCESS',
      'inventory.commit:SUCCESS',
      'payment.commit:SUCCESS',
    ]);
    expect(run.transaction('1').status).toBe('CONFIRMED');
  });

  it('rolls back every participant asked to prepare on a no vote, and asks no more', () => {
    const run = runner().participant('pay.prepare', () => ({
      outcome: 'FAILURE',
      reason: 'INSUFFICIENT_FUNDS',
    }));
    run.begin('2', input);
    run.run();
    expect(run.commandTypes('2')).toEqual([
      'inv.prepare',
      'pay.prepare',
      'inv.rollback',
      'pay.rollback',
    ]);
    expect(run.transaction('2')).toMatchObject({
      status: 'CANCELLED',
      reason: 'INSUFFICIENT_FUNDS',
    });
    expect(lines(run, '2')).toEqual([
      'inventory.prepare:SUCCESS',
      'payment.prepare:FAILURE',
      'inventory.rollback:SUCCESS',
      'payment.rollback:SUCCESS',
    ]);
  });

  it('presumes abort at the deadline: a silent participant is rolled back, TIMEOUT', () => {
    const run = runner().participant('pay.prepare', () => 'NO_REPLY');
    run.begin('3', input);
    run.run();
    expect(run.transaction('3')).toMatchObject({ status: 'CANCELLED', reason: 'TIMEOUT' });
    expect(lines(run, '3')).toEqual([
      'inventory.prepare:SUCCESS',
      'payment.prepare:TIMEOUT',
      'inventory.rollback:SUCCESS',
      'payment.rollback:SUCCESS',
    ]);
  });

  it('re-sends the decision until acknowledged: a participant never decides alone', () => {
    let down = 3;
    const run = runner().participant('inv.commit', () => (down-- > 0 ? 'NO_REPLY' : ok()));
    run.begin('4', input);
    run.run();
    expect(run.commandTypes('4').filter((t) => t === 'inv.commit')).toHaveLength(4);
    expect(run.commandTypes('4').filter((t) => t === 'pay.commit')).toHaveLength(1);
    expect(run.transaction('4').status).toBe('CONFIRMED');
  });

  it('a late vote after the decision changes nothing', () => {
    const run = runner().participant('pay.prepare', () => 'NO_REPLY');
    run.begin('5', input);
    run.run();
    const prepare = run.sent.find((c) => c.type === 'pay.prepare')!;
    expect(run.reply(prepare.id, { outcome: 'SUCCESS' })).toBe('FINISHED');
    expect(run.transaction('5').status).toBe('CANCELLED');
  });

  describe('refuses at definition time', () => {
    const start = defineTwoPhaseCommit<Input>('bad');
    const payload = () => ({});

    it('a decision on the prepare topic (it would queue behind prepares waiting for its locks)', () => {
      expect(() =>
        start.participant('inventory', (p) =>
          p
            .prepares(at('inventory.commands', 'inv.prepare'), payload)
            .committedBy(at('inventory.commands', 'inv.commit'))
            .rolledBackBy(at('inventory.decisions', 'inv.rollback')),
        ),
      ).toThrow(/must not travel with its prepare/);
    });

    it('commit and rollback on two topics (they could overtake each other)', () => {
      expect(() =>
        start.participant('inventory', (p) =>
          p
            .prepares(at('inventory.commands', 'inv.prepare'), payload)
            .committedBy(at('inventory.decisions', 'inv.commit'))
            .rolledBackBy(at('inventory.other', 'inv.rollback')),
        ),
      ).toThrow(/one decisions topic/);
    });

    it('a participant without its rollback, or named twice', () => {
      expect(() =>
        start.participant('inventory', (p) =>
          p
            .prepares(at('inventory.commands', 'inv.prepare'), payload)
            .committedBy(at('inventory.decisions', 'inv.commit')),
        ),
      ).toThrow(/needs its commit and its rollback/);
      expect(() =>
        definition.participant('payment', (p) => p.prepares(at('x', 'y'), payload)),
      ).toThrow(/defined twice/);
    });
  });
});
