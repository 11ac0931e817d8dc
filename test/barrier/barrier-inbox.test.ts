// The barrier's `inbox` option, against the real Postgres: the command's inbox row is recorded
// by the barrier's first statement (BarrierParticipant's path), so a redelivered message changes
// nothing and runs no body, however many copies race, while another message for the same branch
// still meets the barrier's own rules.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { TccBarrier } from '@app/dist-core/barrier';
import { DuplicateMessage, inboxMigrations, type InboxEntry } from '@app/dist-core/inbox';
import { tccBarrierMigrations } from '@app/dist-core/tcc';
import { openTccTestDatabase } from '../support/tcc-test-database.js';

const barrier = new TccBarrier({ callerRollsBackOnError: true });
const CONSUMER = 'barrier-inbox-test';
// Message ids are 64-bit decimal strings, unique per run.
let nextMessage = BigInt(Date.now()) * 1_000_000n;

describe('TccBarrier with the inbox in its first statement', () => {
  let db: DataSource;
  let bodies = 0;
  const body = async () => {
    bodies += 1;
    return { outcome: 'SUCCESS' as const };
  };
  const entry = (): InboxEntry => ({ consumer: CONSUMER, messageId: String(nextMessage++) });
  const inTx = <T>(work: (manager: EntityManager) => Promise<T>) => db.transaction(work);
  const inboxRows = async (message: InboxEntry) =>
    Number(
      (
        await db.query('SELECT count(*) AS n FROM inbox WHERE consumer = $1 AND message_id = $2', [
          message.consumer,
          message.messageId,
        ])
      )[0].n,
    );

  beforeAll(async () => {
    db = await openTccTestDatabase([...tccBarrierMigrations, ...inboxMigrations], 8);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('records the message with the Try; the same message again runs nothing', async () => {
    const key = { gid: randomUUID(), branch: 'payment' };
    const message = entry();
    bodies = 0;
    const first = await inTx((m) => barrier.try(m, key, body, message));
    expect(first).toEqual({ status: 'applied', result: { outcome: 'SUCCESS' } });
    await expect(inTx((m) => barrier.try(m, key, body, message))).rejects.toBeInstanceOf(
      DuplicateMessage,
    );
    expect(bodies).toBe(1);
    expect(await inboxRows(message)).toBe(1);
    // Another message for the branch is the barrier's to judge: a duplicate Try.
    expect(await inTx((m) => barrier.try(m, key, body, entry()))).toMatchObject({
      status: 'duplicate',
    });
  });

  it('records the message with a phase two; a copy is a duplicate message, another a duplicate op', async () => {
    const key = { gid: randomUUID(), branch: 'payment' };
    await inTx((m) => barrier.try(m, key, body, entry()));
    const confirm = entry();
    let confirmed = 0;
    const capture = async () => {
      confirmed += 1;
    };
    expect(await inTx((m) => barrier.confirm(m, key, capture, confirm))).toBe('applied');
    await expect(inTx((m) => barrier.confirm(m, key, capture, confirm))).rejects.toBeInstanceOf(
      DuplicateMessage,
    );
    expect(await inTx((m) => barrier.confirm(m, key, capture, entry()))).toBe('duplicate');
    expect(await inTx((m) => barrier.cancel(m, key, capture, entry()))).toBe('refused');
    expect(confirmed).toBe(1);
  });

  it('lets one of many racing copies of a message through, and leaves no barrier row for a lost race', async () => {
    const key = { gid: randomUUID(), branch: 'payment' };
    const message = entry();
    let cancels = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        inTx((m) =>
          barrier.cancel(
            m,
            key,
            async () => {
              cancels += 1;
            },
            message,
          ),
        ),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toEqual([{ status: 'fulfilled', value: 'null-compensation' }]);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateMessage);
    }
    expect(cancels).toBe(0);
    expect(await inboxRows(message)).toBe(1);
    const rows = await db.query('SELECT op, written_by FROM tcc_barrier WHERE gid = $1', [key.gid]);
    expect(rows).toHaveLength(3);
  });
});
