import type { EntityManager, QueryRunner } from 'typeorm';
import { runQuery, transactionOf } from './transactional-query.js';
import { DuplicateMessage, inboxClaimCte, type InboxEntry } from '../inbox/index.js';
import { leaveToRelay, outboxSavepoint } from '../outbox/index.js';

/**
 * The TCC participant barrier: dtm's subtransaction barrier ("change instead of check"), with the
 * holes of dtm's Node client and of Seata's fence closed.
 *
 * Try, Confirm and Cancel each run inside the participant's own local transaction, together with
 * their business change, and begin by INSERTing marker rows into `tcc_barrier` (unique on gid,
 * branch, op) with ON CONFLICT DO NOTHING. Whether an insert added a row is the decision; nothing
 * is decided by reading first, so two racing deliveries cannot both pass a check: the second
 * insert waits for the first transaction, then finds its row.
 *
 * Rows each operation writes, always in the order try → confirm → cancel (one fixed order, so
 * racing transactions queue on the same first row instead of deadlocking):
 *
 *   Try       try
 *   Confirm   try (if absent), confirm, cancel
 *   Cancel    try (if absent), confirm, cancel
 *
 * `written_by` says which operation wrote a row. What follows from it:
 * - Duplicate: an operation that finds its own row written by itself does nothing (a duplicate
 *   Try gets the stored result of the first, so it can send the same reply again — until the
 *   branch is settled: a Try after its Confirm or Cancel is refused, however it got there).
 * - Null compensation: a Cancel that manages to insert the try row knows no Try ran, and a try
 *   row marked FAILURE means the Try changed nothing (see below): nothing to undo.
 * - Anti-hanging: a try row written by a Cancel (or a Confirm) makes a late Try's insert
 *   conflict, so the Try is refused and reserves nothing that no one would ever release.
 * - Confirm xor Cancel: the confirm row is the slot both phase-two operations claim; whichever
 *   inserts it decides the branch, the other is refused. The coordinator never sends both for
 *   one branch (its status changes by compare-and-set); the barrier does not rely on that.
 * - A Confirm without a successful Try (never ran, or failed) is refused; its rows still commit,
 *   so a Try delivered after it is refused too and nothing hangs.
 * Every marker row COMMITS with the business change, a null compensation's included: dtmcli-node
 * rolls that marker back, so its late Try passes and hangs.
 *
 * A Try that fails halfway (Seata #6374, where a Cancel skipped the undo of side effects a failed
 * Try had made): the Try's row and its business change are one unit, kept in a savepoint.
 * - The body throws (a fault): everything back to before the try row is rolled back and the error
 *   rethrown, so no row and no partial change survive, whatever the caller then does with its
 *   transaction. A Cancel is then a null compensation — right, since nothing was applied — and a
 *   redelivered Try may run again.
 * - The body returns FAILURE (OUT_OF_STOCK is a result, not an exception): its writes are rolled
 *   back, partial ones included (item 1 reserved before item 2 ran out), and the try row commits
 *   marked FAILURE: a duplicate Try gets the same answer and a Cancel has nothing to undo.
 * - The body returns SUCCESS: the change and the row commit together; a Cancel undoes exactly it.
 * Hence "try row written by Try, SUCCESS" ⇔ "the Try's whole change is committed": all Confirm and
 * Cancel need to know. A Confirm or Cancel body that throws is rolled back with its rows too.
 *
 * The transaction must be READ COMMITTED (Postgres' default): after an insert conflicts, the next
 * statement's snapshot shows the committed row that caused it.
 *
 * `inbox` (optional, last argument of each operation): the command's inbox entry, recorded in the
 * operation's first statement (`inboxClaimCte`) instead of one of its own; its marker rows are
 * written only if the message is new, else `DuplicateMessage` is thrown and nothing changed.
 */

export type TccOp = 'try' | 'confirm' | 'cancel';

/** Identifies one branch of one global transaction: (order id, participant branch name). */
export interface BranchKey {
  gid: string;
  branch: string;
}

/** What a Try body returns; stored with the try row and sent back as the reply payload. */
export type TryResult =
  | { outcome: 'SUCCESS'; [field: string]: unknown }
  | { outcome: 'FAILURE'; reason: string; [field: string]: unknown };

export type TryOutcome =
  /** The body ran now; `result` is what it returned (its change committed only on SUCCESS). */
  | { status: 'applied'; result: TryResult }
  /** A Try already ran: its stored result. */
  | { status: 'duplicate'; result: TryResult }
  /** A Cancel or Confirm came first: the Try must not run (anti-hanging). */
  | { status: 'refused' };

export type ConfirmOutcome = 'applied' | 'duplicate' | 'refused';
export type CancelOutcome = 'applied' | 'duplicate' | 'null-compensation' | 'refused';

/** Answer to the coordinator for a phase-two outcome, or for a refused Try. */
export const REFUSED_REASON = 'REFUSED';

interface BarrierRow {
  written_by: TccOp;
  try_result: TryResult | null;
}

export interface TccBarrierOptions {
  /**
   * The caller promises that an error thrown by an operation rolls back its whole transaction
   * (it never catches the error and commits). Then the savepoint that keeps marker rows and
   * business change together on error is redundant and skipped: two fewer statements, two
   * fewer round trips per operation. `BarrierParticipant` owns its transaction and sets this.
   * Default false: the barrier guards itself.
   */
  callerRollsBackOnError?: boolean;
}

export class TccBarrier {
  constructor(private readonly options: TccBarrierOptions = {}) {}

  /**
   * Runs `body` as the branch's Try unless a Try already ran or a Cancel/Confirm came first.
   * `manager` must be the participant's open transaction.
   */
  async try(
    manager: EntityManager,
    key: BranchKey,
    body: (manager: EntityManager) => Promise<TryResult>,
    inbox?: InboxEntry,
  ): Promise<TryOutcome> {
    const runner = transactionOf(manager, 'TccBarrier.try');
    return this.inSavepoint(runner, async () => {
      if (!(await this.insertTry(runner, key, inbox))) {
        // A repeat of a Try that ran gets its stored result, until the branch is settled (a
        // confirm row exists, written by Confirm or Cancel): after the end, every Try is refused.
        const rows = await this.readBranch(runner, key);
        const existing = rows.find((row) => row.op === 'try');
        const settled = rows.some((row) => row.op === 'confirm');
        return existing?.written_by === 'try' && existing.try_result && !settled
          ? { status: 'duplicate', result: existing.try_result }
          : { status: 'refused' };
      }
      await runner.query('SAVEPOINT tcc_barrier_body');
      const rowsBefore = outboxSavepoint(runner);
      const result = await body(manager);
      // A failed Try keeps its row but no change, not even a partial one (Seata #6374).
      if (result.outcome !== 'SUCCESS') {
        await runner.query('ROLLBACK TO SAVEPOINT tcc_barrier_body');
        leaveToRelay(runner, rowsBefore);
      }
      await runQuery(
        runner,
        `UPDATE tcc_barrier SET try_result = $4 WHERE gid = $1 AND branch = $2 AND op = $3`,
        [key.gid, key.branch, 'try', JSON.stringify(result)],
      );
      return { status: 'applied', result };
    });
  }

  /** Runs `body` (e.g. spend the frozen money) once, and only after a successful Try. */
  async confirm(
    manager: EntityManager,
    key: BranchKey,
    body: (manager: EntityManager) => Promise<void>,
    inbox?: InboxEntry,
  ): Promise<ConfirmOutcome> {
    const runner = transactionOf(manager, 'TccBarrier.confirm');
    return this.inSavepoint(runner, async () => {
      const phase = await this.claimPhaseTwo(runner, key, 'confirm', inbox);
      if (phase !== 'tried') return phase === 'no-change-to-settle' ? 'refused' : phase;
      await body(manager);
      return 'applied';
    });
  }

  /** Runs `body` (e.g. unfreeze the money) once, and only if a Try's change is committed. */
  async cancel(
    manager: EntityManager,
    key: BranchKey,
    body: (manager: EntityManager) => Promise<void>,
    inbox?: InboxEntry,
  ): Promise<CancelOutcome> {
    const runner = transactionOf(manager, 'TccBarrier.cancel');
    return this.inSavepoint(runner, async () => {
      const phase = await this.claimPhaseTwo(runner, key, 'cancel', inbox);
      if (phase !== 'tried') return phase === 'no-change-to-settle' ? 'null-compensation' : phase;
      await body(manager);
      return 'applied';
    });
  }

  /**
   * Writes a phase-two operation's rows (try if absent, confirm, cancel) and says whether its body
   * must run: 'tried' when a successful Try's change is there to settle.
   */
  private async claimPhaseTwo(
    runner: QueryRunner,
    key: BranchKey,
    op: 'confirm' | 'cancel',
    inbox?: InboxEntry,
  ): Promise<'tried' | 'no-change-to-settle' | 'duplicate' | 'refused'> {
    // The three rows in one statement: a multi-row INSERT takes its VALUES in order, so racing
    // transactions still queue on the try row first, and one round trip does the work of three.
    // The same statement reads the try row as it stood when the statement began: on the usual
    // path (the Try committed long before) that is the row to decide on, without a second read.
    const gate = inboxGate(inbox, 4);
    const { rows } = await runQuery<
      { added: TccOp[] | null; try_result: TryResult | null } & NewMessage
    >(
      runner,
      `WITH ${gate.cte} added AS (
         INSERT INTO tcc_barrier (gid, branch, op, written_by)
         SELECT gid, branch, op, written_by
         FROM (VALUES (1, $1, $2, 'try', $3), (2, $1, $2, 'confirm', $3), (3, $1, $2, 'cancel', $3))
           AS v (n, gid, branch, op, written_by)
         WHERE ${gate.condition} ORDER BY n
         ON CONFLICT (gid, branch, op) DO NOTHING RETURNING op
       )
       SELECT (SELECT array_agg(op::text) FROM added) AS added, ${gate.condition} AS new_message,
              (SELECT try_result FROM tcc_barrier
               WHERE gid = $1 AND branch = $2 AND op = 'try') AS try_result`,
      [key.gid, key.branch, op, ...gate.params],
    );
    if (inbox && !rows[0].new_message) throw new DuplicateMessage(inbox);
    const added = new Set(rows[0].added ?? []);
    if (!added.has('confirm')) {
      // Another phase two wrote the confirm row, and the try and cancel rows with it.
      const decided = await this.read(runner, key, 'confirm');
      return decided.written_by === op ? 'duplicate' : 'refused';
    }
    if (!added.has('cancel')) {
      // Unreachable: every writer of the cancel row claimed the confirm row first.
      throw new Error(`tcc_barrier ${key.gid}/${key.branch}: cancel row without confirm row`);
    }
    // This phase two wrote the try row itself: no Try ever ran.
    if (added.has('try')) return 'no-change-to-settle';
    // The confirm row was free, so the try row was written by a Try, not by another phase two.
    // A Try that committed while this statement waited on its row is not in the statement's
    // snapshot (READ COMMITTED): then the next statement reads it.
    const tryResult = rows[0].try_result ?? (await this.read(runner, key, 'try')).try_result;
    return tryResult?.outcome === 'SUCCESS' ? 'tried' : 'no-change-to-settle';
  }

  /** True when this Try added its row: the "change" that replaces a check. */
  private async insertTry(
    runner: QueryRunner,
    key: BranchKey,
    inbox: InboxEntry | undefined,
  ): Promise<boolean> {
    const gate = inboxGate(inbox, 3);
    const { rows } = await runQuery<{ added: boolean } & NewMessage>(
      runner,
      `WITH ${gate.cte} added AS (
         INSERT INTO tcc_barrier (gid, branch, op, written_by)
         SELECT $1, $2, 'try', 'try' WHERE ${gate.condition}
         ON CONFLICT (gid, branch, op) DO NOTHING RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM added) AS added, ${gate.condition} AS new_message`,
      [key.gid, key.branch, ...gate.params],
    );
    if (inbox && !rows[0].new_message) throw new DuplicateMessage(inbox);
    return rows[0].added;
  }

  /** Every committed row of the branch (at most three). */
  private async readBranch(
    runner: QueryRunner,
    key: BranchKey,
  ): Promise<(BarrierRow & { op: TccOp })[]> {
    const { rows } = await runQuery<BarrierRow & { op: TccOp }>(
      runner,
      `SELECT op, written_by, try_result FROM tcc_barrier WHERE gid = $1 AND branch = $2`,
      [key.gid, key.branch],
    );
    return rows;
  }

  /** Reads a row whose insert just conflicted: it is committed and never changes again. */
  private async read(runner: QueryRunner, key: BranchKey, op: TccOp): Promise<BarrierRow> {
    const { rows } = await runQuery<BarrierRow>(
      runner,
      `SELECT written_by, try_result FROM tcc_barrier WHERE gid = $1 AND branch = $2 AND op = $3`,
      [key.gid, key.branch, op],
    );
    if (rows.length !== 1) throw new Error(`tcc_barrier ${key.gid}/${key.branch}/${op} vanished`);
    return rows[0];
  }

  /**
   * Marker rows and business change succeed or vanish together, even if the caller catches the
   * error and commits its transaction anyway (e.g. to record a failure reply). A caller that
   * never does (`callerRollsBackOnError`) gets the same from its own rollback.
   */
  private async inSavepoint<T>(runner: QueryRunner, work: () => Promise<T>): Promise<T> {
    if (this.options.callerRollsBackOnError) return work();
    await runner.query('SAVEPOINT tcc_barrier');
    const rowsBefore = outboxSavepoint(runner);
    let result: T;
    try {
      result = await work();
    } catch (error) {
      await runner.query('ROLLBACK TO SAVEPOINT tcc_barrier').catch(() => undefined);
      leaveToRelay(runner, rowsBefore);
      throw error;
    }
    await runner.query('RELEASE SAVEPOINT tcc_barrier');
    return result;
  }
}

interface NewMessage {
  new_message: boolean;
}

/**
 * The inbox part of an operation's first statement: the claim CTE (its parameters from
 * `$<first>`) and the condition its marker rows wait on; without an inbox, nothing and `true`.
 */
function inboxGate(inbox: InboxEntry | undefined, first: number) {
  return inbox
    ? {
        cte: `${inboxClaimCte(first)},`,
        condition: 'EXISTS (SELECT 1 FROM inbox_claim)',
        params: [inbox.consumer, inbox.messageId],
      }
    : { cte: '', condition: 'true', params: [] };
}

/** The reply payload a participant sends for a Try outcome (the coordinator ignores a refusal). */
export function tryReplyPayload(outcome: TryOutcome): TryResult {
  return outcome.status === 'refused'
    ? { outcome: 'FAILURE', reason: REFUSED_REASON }
    : outcome.result;
}

/**
 * The reply payload for a Confirm or Cancel outcome. Only a refusal is a FAILURE: the coordinator
 * retries it, and an operator sees the attempts grow, because it means the branch was settled the
 * other way — which the coordinator's compare-and-set should have made impossible.
 */
export function phaseTwoReplyPayload(outcome: ConfirmOutcome | CancelOutcome): {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: string;
} {
  return outcome === 'refused'
    ? { outcome: 'FAILURE', reason: REFUSED_REASON }
    : { outcome: 'SUCCESS' };
}
