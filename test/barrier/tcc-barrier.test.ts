import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import { TccBarrier, type TccOp, type TryResult } from '@app/dist-core/barrier';
import { tccBarrierMigrations } from '@app/dist-core/tcc';
import { openTccTestDatabase } from '../support/tcc-test-database.js';

/**
 * Every ordering of Try, Confirm and Cancel for one branch, each present 0–2 times, must end in
 * exactly one of "nothing happened", "tried and confirmed", "tried and cancelled", with no money
 * created or lost. The business is a tiny account: Try freezes 30 of 100 cents (in two halves, so
 * a failure or crash between them is a half-done Try), Confirm spends them, Cancel unfreezes them.
 * CHECK constraints make any overdraft, double spend or double unfreeze fail loudly.
 */

const BALANCE = 100;
const HALF = 15;
const AMOUNT = 2 * HALF;
const BRANCH = 'payment';

/** How the Try body behaves in a run. */
type TryBehaviour =
  | 'succeeds'
  /** Freezes the first half, then returns INSUFFICIENT_FUNDS: the half must not survive. */
  | 'fails'
  /** The first Try delivered freezes half, then crashes; a redelivered Try succeeds. */
  | 'crashes-first';

type Ending = 'nothing happened' | 'tried and confirmed' | 'tried and cancelled';

interface Account {
  available: number;
  frozen: number;
  spent: number;
  tries: number;
  confirms: number;
  cancels: number;
}

/**
 * All distinct orderings of the multisets with 0–2 copies of each op, leaving out those with no
 * Confirm or Cancel (a lone Try is an unfinished transaction, not an ending). Σ over copy counts
 * (t, f, c) ∈ {0,1,2}³ of (t+f+c)!/(t!f!c!) is 271; minus [], [try], [try, try]: 268.
 */
function orderings(): TccOp[][] {
  const result: TccOp[][] = [];
  const grow = (prefix: TccOp[], left: Record<TccOp, number>) => {
    if (left.try + left.confirm + left.cancel === 0) {
      if (prefix.some((op) => op !== 'try')) result.push(prefix);
      return;
    }
    for (const op of ['try', 'confirm', 'cancel'] as const) {
      if (left[op] > 0) grow([...prefix, op], { ...left, [op]: left[op] - 1 });
    }
  };
  for (let t = 0; t <= 2; t++)
    for (let f = 0; f <= 2; f++)
      for (let c = 0; c <= 2; c++) grow([], { try: t, confirm: f, cancel: c });
  return result;
}

/** What a sequential run must end in: the first op the barrier lets through decides. */
function expectedEnding(sequence: TccOp[], behaviour: TryBehaviour): Ending {
  if (behaviour === 'fails') return 'nothing happened';
  let applyingTry = sequence.indexOf('try');
  if (behaviour === 'crashes-first' && applyingTry >= 0) {
    applyingTry = sequence.indexOf('try', applyingTry + 1); // the crash left no trace
  }
  const closesTheDoor = (op: TccOp) => op !== 'try';
  if (applyingTry < 0 || sequence.slice(0, applyingTry).some(closesTheDoor)) {
    return 'nothing happened';
  }
  const decider = sequence.slice(applyingTry + 1).find(closesTheDoor);
  return decider === 'confirm' ? 'tried and confirmed' : 'tried and cancelled';
}

const ENDINGS: Record<Ending, Account> = {
  'nothing happened': { available: 100, frozen: 0, spent: 0, tries: 0, confirms: 0, cancels: 0 },
  'tried and confirmed': { available: 70, frozen: 0, spent: 30, tries: 1, confirms: 1, cancels: 0 },
  'tried and cancelled': { available: 100, frozen: 0, spent: 0, tries: 1, confirms: 0, cancels: 1 },
};

const ACCOUNTS_TABLE = `
  CREATE TABLE IF NOT EXISTS tcc_test_accounts (
    id         text    PRIMARY KEY,
    available  integer NOT NULL CHECK (available >= 0),
    frozen     integer NOT NULL CHECK (frozen >= 0),
    spent      integer NOT NULL CHECK (spent >= 0),
    tries      integer NOT NULL DEFAULT 0,
    confirms   integer NOT NULL DEFAULT 0,
    cancels    integer NOT NULL DEFAULT 0
  )`;

class CrashHalfway extends Error {}

/** The barrier under test; the orderings run once per mode (see TccBarrierOptions). */
let barrier = new TccBarrier();
/** Gids unique per run: rows of earlier runs stay in the test database. */
const runId = randomUUID().slice(0, 8);
let accounts = 0;
let db: DataSource;

beforeAll(async () => {
  // Six connections: every op of the longest ordering gets its own racing transaction.
  db = await openTccTestDatabase(tccBarrierMigrations, 6, [ACCOUNTS_TABLE]);
});

afterAll(async () => {
  await db?.destroy();
});

async function openAccount(): Promise<string> {
  const gid = `${runId}-${++accounts}`;
  await db.query(
    `INSERT INTO tcc_test_accounts (id, available, frozen, spent) VALUES ($1, $2, 0, 0)`,
    [gid, BALANCE],
  );
  return gid;
}

async function readAccount(gid: string): Promise<Account> {
  const [row] = await db.query(
    `SELECT available, frozen, spent, tries, confirms, cancels FROM tcc_test_accounts WHERE id = $1`,
    [gid],
  );
  return row as Account;
}

function endingOf(account: Account): Ending | `broken: ${string}` {
  const match = (Object.keys(ENDINGS) as Ending[]).find((ending) =>
    (Object.keys(account) as (keyof Account)[]).every((k) => ENDINGS[ending][k] === account[k]),
  );
  return match ?? `broken: ${JSON.stringify(account)}`;
}

async function move(manager: EntityManager, gid: string, sql: string): Promise<void> {
  await manager.query(`UPDATE tcc_test_accounts SET ${sql} WHERE id = $1`, [gid]);
}

/** One delivery of `op`, in its own local transaction, as a participant's handler runs it. */
async function deliver(
  gid: string,
  op: TccOp,
  behaviour: TryBehaviour,
  crash: boolean,
): Promise<string> {
  const key = { gid, branch: BRANCH };
  const run = db.transaction(async (manager): Promise<string> => {
    if (op === 'try') {
      const outcome = await barrier.try(manager, key, async (tx): Promise<TryResult> => {
        await move(tx, gid, `available = available - ${HALF}, frozen = frozen + ${HALF}`);
        if (crash) throw new CrashHalfway('crashed between the two halves');
        if (behaviour === 'fails') return { outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' };
        await move(
          tx,
          gid,
          `available = available - ${HALF}, frozen = frozen + ${HALF}, tries = tries + 1`,
        );
        return { outcome: 'SUCCESS', frozenCents: AMOUNT };
      });
      return outcome.status;
    }
    if (op === 'confirm') {
      return barrier.confirm(manager, key, (tx) =>
        move(
          tx,
          gid,
          `frozen = frozen - ${AMOUNT}, spent = spent + ${AMOUNT}, confirms = confirms + 1`,
        ),
      );
    }
    return barrier.cancel(manager, key, (tx) =>
      move(
        tx,
        gid,
        `frozen = frozen - ${AMOUNT}, available = available + ${AMOUNT}, cancels = cancels + 1`,
      ),
    );
  });
  // A crash only happens if the barrier let the body run; a refused Try never gets that far.
  return run.catch((error: unknown) => {
    if (crash && error instanceof CrashHalfway) return 'crashed';
    throw error;
  });
}

/** Which deliveries crash: only the first Try of the ordering, and only when asked to. */
function crashPlan(sequence: TccOp[], behaviour: TryBehaviour): boolean[] {
  const firstTry = sequence.indexOf('try');
  return sequence.map((_, i) => behaviour === 'crashes-first' && i === firstTry);
}

async function runSequentially(sequence: TccOp[], behaviour: TryBehaviour): Promise<string | null> {
  const gid = await openAccount();
  const crashes = crashPlan(sequence, behaviour);
  for (const [i, op] of sequence.entries()) {
    await deliver(gid, op, behaviour, crashes[i]);
    const { available, frozen, spent } = await readAccount(gid);
    if (available + frozen + spent !== BALANCE) return `money not conserved after step ${i}`;
  }
  const ending = endingOf(await readAccount(gid));
  const expected = expectedEnding(sequence, behaviour);
  return ending === expected ? null : `ended in "${ending}", expected "${expected}"`;
}

/** Every op in its own transaction on its own connection, all started together. */
async function runConcurrently(sequence: TccOp[], behaviour: TryBehaviour): Promise<string> {
  const gid = await openAccount();
  const crashes = crashPlan(sequence, behaviour);
  await Promise.all(
    sequence.map(async (op, i) => {
      await sleep(Math.random() * 2); // vary who reaches the barrier first
      await deliver(gid, op, behaviour, crashes[i]);
    }),
  );
  return endingOf(await readAccount(gid));
}

/** Runs `work` over `items`, `limit` at a time. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const ALL_ORDERINGS = orderings();
const BEHAVIOURS: TryBehaviour[] = ['succeeds', 'fails', 'crashes-first'];

it('enumerates 268 orderings', () => {
  expect(ALL_ORDERINGS).toHaveLength(268);
  expect(new Set(ALL_ORDERINGS.map((s) => s.join())).size).toBe(268);
});

// `deliver` rolls its transaction back on any error, as BarrierParticipant does: both modes
// must give the same endings (without its own savepoint the barrier relies on that rollback).
describe.each([
  ['with its own savepoint', {}],
  ['relying on the caller rolling back', { callerRollsBackOnError: true }],
])('TccBarrier %s: every ordering of Try, Confirm and Cancel', (_mode, options) => {
  beforeAll(() => {
    barrier = new TccBarrier(options);
  });
  afterAll(() => {
    barrier = new TccBarrier();
  });

  for (const behaviour of BEHAVIOURS) {
    it(`sequentially, when the Try ${behaviour}: each ends as the first op through decides`, async () => {
      const failures: string[] = [];
      // Orderings are independent (one account each), so four run side by side.
      await forEachLimited(ALL_ORDERINGS, 4, async (sequence) => {
        const failure = await runSequentially(sequence, behaviour);
        if (failure) failures.push(`[${sequence.join(', ')}] ${failure}`);
      });
      expect(failures).toEqual([]);
    }, 60_000);

    it(`concurrently, when the Try ${behaviour}: each ends in one of the three endings`, async () => {
      const endings = new Map<string, number>();
      for (const sequence of ALL_ORDERINGS) {
        const ending = await runConcurrently(sequence, behaviour);
        const label = ending.startsWith('broken') ? `[${sequence.join(', ')}] ${ending}` : ending;
        endings.set(label, (endings.get(label) ?? 0) + 1);
      }
      const seen = [...endings.keys()];
      const allowed: string[] = behaviour === 'fails' ? ['nothing happened'] : Object.keys(ENDINGS);
      expect(seen.filter((ending) => !allowed.includes(ending))).toEqual([]);
      // The races were real: both settlements happened at least once.
      if (behaviour !== 'fails') {
        expect(endings.get('tried and confirmed')).toBeGreaterThan(0);
        expect(endings.get('tried and cancelled')).toBeGreaterThan(0);
      }
    }, 60_000);
  }
});

describe('TccBarrier: a Try that fails halfway', () => {
  it('leaves no row and no change even if the caller catches the error and commits', async () => {
    const gid = await openAccount();
    const key = { gid, branch: BRANCH };
    await db.transaction(async (manager) => {
      await expect(
        barrier.try(manager, key, async (tx) => {
          await move(tx, gid, `available = available - ${HALF}, frozen = frozen + ${HALF}`);
          throw new CrashHalfway('crashed');
        }),
      ).rejects.toBeInstanceOf(CrashHalfway);
    });
    expect(await readAccount(gid)).toEqual(ENDINGS['nothing happened']);
    const rows = await db.query(`SELECT op FROM tcc_barrier WHERE gid = $1`, [gid]);
    expect(rows).toEqual([]);
  });

  it('keeps a business FAILURE (its row, not its partial change) so a Cancel has nothing to undo', async () => {
    const gid = await openAccount();
    expect(await deliver(gid, 'try', 'fails', false)).toBe('applied');
    expect(await deliver(gid, 'try', 'fails', false)).toBe('duplicate');
    expect(await deliver(gid, 'cancel', 'fails', false)).toBe('null-compensation');
    expect(await readAccount(gid)).toEqual(ENDINGS['nothing happened']);
  });

  it('refuses a repeated Try once its branch is settled, either way', async () => {
    for (const settle of ['cancel', 'confirm'] as const) {
      const gid = await openAccount();
      expect(await deliver(gid, 'try', 'succeeds', false)).toBe('applied');
      expect(await deliver(gid, 'try', 'succeeds', false)).toBe('duplicate');
      expect(await deliver(gid, settle, 'succeeds', false)).toBe('applied');
      const before = await readAccount(gid);
      expect(await deliver(gid, 'try', 'succeeds', false)).toBe('refused');
      expect(await readAccount(gid)).toEqual(before);
    }
  });

  it('refuses to run outside a transaction', async () => {
    await expect(
      barrier.cancel(db.manager, { gid: 'x', branch: BRANCH }, async () => undefined),
    ).rejects.toThrow(/inside a transaction/);
  });
});

describe('TccBarrier: anti-hanging', () => {
  it('commits the null-compensation marker, so a Try after the Cancel is refused', async () => {
    const gid = await openAccount();
    expect(await deliver(gid, 'cancel', 'succeeds', false)).toBe('null-compensation');
    expect(await deliver(gid, 'try', 'succeeds', false)).toBe('refused');
    expect(await deliver(gid, 'cancel', 'succeeds', false)).toBe('duplicate');
    const rows = await db.query(
      `SELECT op, written_by FROM tcc_barrier WHERE gid = $1 ORDER BY op`,
      [gid],
    );
    expect(rows).toEqual([
      { op: 'cancel', written_by: 'cancel' },
      { op: 'confirm', written_by: 'cancel' },
      { op: 'try', written_by: 'cancel' },
    ]);
  });
});
