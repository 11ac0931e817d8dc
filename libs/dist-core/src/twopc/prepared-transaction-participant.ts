import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import { DataSource, type DataSourceOptions, type EntityManager, type QueryRunner } from 'typeorm';
import { REFUSED_REASON, type ReplyRoute } from '../barrier/index.js';
import { recordInbox } from '../inbox/index.js';
import { InvalidMessageError, type Envelope } from '../kafka/index.js';
import { AfterCommitPublisher, Outbox, type IdGenerator } from '../outbox/index.js';
import {
  commitPrepared,
  gidLiteral,
  isPrepared,
  PrepareDeferredError,
  prepareFailure,
  rollbackPrepared,
} from './prepared-transactions.js';

/** A prepare's answer: SUCCESS = prepared, ready to commit (with the participant's data, e.g. prices). */
export type Vote =
  { outcome: 'SUCCESS'; [field: string]: unknown } | { outcome: 'FAILURE'; reason: string };

type BranchState = 'PREPARED' | 'COMMITTED' | 'ABORTED';

interface BranchRow {
  state: BranchState;
  command: unknown;
  vote: Vote | null;
}

export type TwoPcOutcome = 'answered' | 'duplicate';

export interface PreparedTransactionParticipantOptions {
  /** How long a prepare waits for one row lock before it is deferred and retried (default 2 s). */
  lockTimeoutMs?: number;
  /** How long an operation waits for another one on the same branch (default 3 × lockTimeoutMs). */
  branchWaitMs?: number;
  /**
   * Prepares running at once (default 2; keep it below the pool's size). A prepare may wait on
   * its connection for a row lock that only a decision releases: unbounded, waiting prepares
   * would take every pooled connection and leave none for the decisions that free them — a
   * deadlock until timeouts. The others queue in the process, holding no connection.
   */
  maxConcurrentPrepares?: number;
}

/** Connections of the decisions' own pool: a commit or rollback is two short transactions. */
const DECISION_CONNECTIONS = 2;

/** The vote a prepare gets after its branch was rolled back: nothing was, or will be, held. */
const REFUSED: Vote = { outcome: 'FAILURE', reason: REFUSED_REASON };
const ACK = { outcome: 'SUCCESS' } as const;

/**
 * The participant side of two-phase commit (XA-style), on PostgreSQL prepared transactions.
 * Presumed abort: before voting yes a participant may abort on its own; after, it never decides
 * by itself — only the coordinator's commit or rollback ends the branch.
 *
 * prepare — on a dedicated connection: BEGIN; the business change (bounded lock waits:
 *   SET LOCAL lock_timeout); a marker row `twopc_committed(gid)`; PREPARE TRANSACTION 'gid'.
 *   The change is now durable but invisible, and its row locks stay held across crashes and
 *   restarts until a decision. Then ONE ordinary local transaction writes the inbox row, the
 *   branch row (PREPARED, with the vote) and the vote in the outbox. A business refusal rolls
 *   back instead and records ABORTED with the no vote. A re-sent prepare (another message id)
 *   gets the recorded vote again; a prepared transaction with no recorded vote was left by a
 *   crash before voting, so it is rolled back and the prepare runs again.
 * commit — COMMIT PREPARED if it is still prepared; if not, the marker row says whether it was
 *   committed (a crash before the branch row's update) → acknowledged. A commit of a branch that
 *   never voted yes, or was rolled back, is a protocol violation: dead-lettered, nothing changes.
 * rollback — ROLLBACK PREPARED if prepared; the branch row becomes ABORTED, or is written ABORTED
 *   when the rollback came first (decisions travel on another topic than prepares): a tombstone
 *   that refuses the late prepare, which then holds nothing.
 *
 * Every operation on a branch holds a session advisory lock of its gid on its connection, so a
 * prepare and a decision of one order never interleave (two processes after a rebalance): a
 * decision would otherwise take a prepared transaction for an orphan, or the other way round.
 * The lock is a session's, not the transaction's, because it must span the PREPARE and the
 * vote's transaction, and an advisory lock is not a row lock: nothing of the prepared
 * transaction's waits on it. Its wait is bounded too (branchWaitMs), then retried.
 *
 * The gid (`twopc:<database>:<order>:<participant>`) names the database: gids are unique per
 * Postgres cluster, and two databases on one server (the test suites', two deployments) may run
 * the same order ids. It must stay the same on every run of a branch: it is how a redelivered
 * operation finds what an earlier run prepared.
 */
export class PreparedTransactionParticipant {
  private readonly lockTimeoutMs: number;
  private readonly branchWaitMs: number;
  private readonly prepareSlots: Slots;
  private decisionsPool?: Promise<DataSource>;
  private database?: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    /** The inbox's consumer name, e.g. `inventory`. */
    private readonly consumer: string,
    /** This participant's branch of each order, part of its gid. */
    private readonly branch: string,
    private readonly outbox: Outbox,
    options: PreparedTransactionParticipantOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 2000;
    this.branchWaitMs = options.branchWaitMs ?? 3 * this.lockTimeoutMs;
    this.prepareSlots = new Slots(options.maxConcurrentPrepares ?? 2);
  }

  /**
   * Phase one. `recorded` is the command as the decisions must repeat it; `change` makes the
   * business change on the prepare's transaction and returns the vote (a FAILURE is rolled back).
   */
  prepare(
    command: Envelope,
    reply: ReplyRoute,
    recorded: object,
    change: (manager: EntityManager) => Promise<Vote>,
  ): Promise<TwoPcOutcome> {
    return this.prepareSlots.run(() => this.prepareOnce(command, reply, recorded, change));
  }

  private prepareOnce(
    command: Envelope,
    reply: ReplyRoute,
    recorded: object,
    change: (manager: EntityManager) => Promise<Vote>,
  ): Promise<TwoPcOutcome> {
    return this.onBranch(command, this.dataSource, async (runner, gid) => {
      const branch = await this.branchRow(runner, gid);
      if (branch) {
        // Voted before (a re-sent prepare), or rolled back before it arrived (the tombstone).
        await this.answer(runner, command, reply, branch.vote ?? REFUSED, () => Promise.resolve());
        return;
      }
      // Prepared but never voted: this participant's own crash between the two steps. Not yet
      // voted, it may still abort on its own, and prepares afresh.
      if (await isPrepared(runner, gid)) await rollbackPrepared(runner, gid);
      const vote = await this.prepareChange(runner, gid, change);
      try {
        await this.answer(runner, command, reply, vote, () =>
          this.insertBranch(runner, gid, vote.outcome === 'SUCCESS' ? 'PREPARED' : 'ABORTED', {
            command: recorded,
            vote,
          }),
        );
      } catch (error) {
        if (vote.outcome === 'SUCCESS') await this.abandon(runner, gid);
        throw error;
      }
    });
  }

  /** Phase two, commit. `matches` says whether the command names what the prepare recorded. */
  async commit(
    command: Envelope,
    reply: ReplyRoute,
    matches: (recorded: unknown) => boolean,
  ): Promise<TwoPcOutcome> {
    return this.onBranch(command, await this.decisionConnections(), async (runner, gid) => {
      const branch = await this.branchRow(runner, gid);
      if (!branch || branch.state === 'ABORTED') {
        throw invalid(command, `commit of ${gid}, which is ${branch ? 'aborted' : 'not prepared'}`);
      }
      if (!matches(branch.command)) throw invalid(command, `not what ${gid} prepared`);
      if (branch.state === 'PREPARED') {
        if (await isPrepared(runner, gid)) await commitPrepared(runner, gid);
        else if (!(await this.committedMarker(runner, gid))) {
          // Voted yes, yet neither prepared nor committed: only a hand outside this class can
          // have rolled it back. A fault for operators, retried and then dead-lettered.
          throw new Error(
            `2PC ${gid}: voted yes, but its prepared transaction is gone uncommitted`,
          );
        }
      }
      await this.answer(runner, command, reply, ACK, () => this.setState(runner, gid, 'COMMITTED'));
    });
  }

  /** Phase two, rollback; also before the prepare arrived (then it leaves a tombstone). */
  async rollback(
    command: Envelope,
    reply: ReplyRoute,
    recorded: object,
    matches: (recorded: unknown) => boolean,
  ): Promise<TwoPcOutcome> {
    return this.onBranch(command, await this.decisionConnections(), async (runner, gid) => {
      const branch = await this.branchRow(runner, gid);
      if (branch && !matches(branch.command)) throw invalid(command, `not what ${gid} prepared`);
      if (branch?.state === 'COMMITTED') throw invalid(command, `rollback of ${gid}, committed`);
      if (await isPrepared(runner, gid)) {
        await rollbackPrepared(runner, gid);
      } else if (branch?.state === 'PREPARED' && (await this.committedMarker(runner, gid))) {
        throw invalid(command, `rollback of ${gid}, committed`);
      }
      await this.answer(runner, command, reply, ACK, () =>
        branch
          ? this.setState(runner, gid, 'ABORTED')
          : this.insertBranch(runner, gid, 'ABORTED', { command: recorded, vote: null }),
      );
    });
  }

  /**
   * The decisions' own connections. A prepared transaction keeps its rows locked until its
   * decision, and every other writer of those rows (a saga's or TCC's command, a restock) waits
   * on a pooled connection meanwhile: enough of them take the whole pool, and a decision that
   * needed a connection from it could never run to release them. So commits and rollbacks never
   * wait for a connection anyone else can hold.
   */
  private decisionConnections(): Promise<DataSource> {
    this.decisionsPool ??= new DataSource({
      ...this.dataSource.options,
      extra: { ...(this.dataSource.options.extra as object), max: DECISION_CONNECTIONS },
      migrationsRun: false,
      synchronize: false,
    } as DataSourceOptions)
      .initialize()
      .then((pool) => {
        // The acknowledgements leave right after their commit, as the votes do. Left to the
        // relay, an ack found its own vote (published, not yet marked sent) "older and unsent"
        // and waited for the relay's next poll: half a second on every 2PC order.
        AfterCommitPublisher.of(this.dataSource)?.attach(pool, this.dataSource);
        return pool;
      });
    return this.decisionsPool;
  }

  /** Closes the decisions' connections (Nest calls it at shutdown; tests call it themselves). */
  async onModuleDestroy(): Promise<void> {
    const pool = this.decisionsPool;
    this.decisionsPool = undefined;
    if (pool) await (await pool).destroy();
  }

  /** The gid of this participant's branch of an order, in this database. */
  async gidOf(orderId: string): Promise<string> {
    this.database ??= this.dataSource
      .query('SELECT current_database() AS name')
      // A gid is a SQL literal: whatever else a database's name holds becomes `_`.
      .then((rows: Array<{ name: string }>) => rows[0].name.replace(/[^A-Za-z0-9_.-]/g, '_'));
    return `twopc:${await this.database}:${orderId}:${this.branch}`;
  }

  /**
   * Runs `fn` on a dedicated connection holding the branch's advisory lock, unless the message
   * was already handled (its inbox row, checked under the lock, is the one its answer wrote).
   */
  private async onBranch(
    command: Envelope,
    connections: DataSource,
    fn: (runner: QueryRunner, gid: string) => Promise<void>,
  ): Promise<TwoPcOutcome> {
    const gid = await this.gidOf(command.correlationId);
    const runner = connections.createQueryRunner();
    // A session lock left on a pooled connection would block the branch for good: a connection
    // whose unlock failed is closed instead of returned to the pool.
    let unlockFailure: unknown;
    try {
      await runner.connect();
      await this.lockBranch(runner, gid);
      try {
        const seen: unknown[] = await runner.query(
          'SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2',
          [this.consumer, command.id],
        );
        if (seen.length > 0) return 'duplicate';
        await fn(runner, gid);
        return 'answered';
      } finally {
        await runner
          .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [gid])
          .catch((error: unknown) => (unlockFailure = error ?? new Error('unlock failed')));
      }
    } finally {
      await releaseConnection(runner, unlockFailure);
    }
  }

  private async lockBranch(runner: QueryRunner, gid: string): Promise<void> {
    const deadline = Date.now() + this.branchWaitMs;
    for (;;) {
      const [{ locked }] = (await runner.query(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [gid],
      )) as Array<{ locked: boolean }>;
      if (locked) return;
      if (Date.now() >= deadline) {
        throw new PrepareDeferredError(gid, 'another operation on the branch is still running');
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** BEGIN … PREPARE TRANSACTION, or a rolled-back refusal. Deferrable failures are retried. */
  private async prepareChange(
    runner: QueryRunner,
    gid: string,
    change: (manager: EntityManager) => Promise<Vote>,
  ): Promise<Vote> {
    await runner.query('BEGIN');
    try {
      await runner.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.lockTimeoutMs))}`);
      const vote = await change(runner.manager);
      if (vote.outcome !== 'SUCCESS') {
        await runner.query('ROLLBACK');
        return vote;
      }
      await runner.query('INSERT INTO twopc_committed (gid) VALUES ($1)', [gid]);
      // A failed PREPARE rolls the transaction back itself; the ROLLBACK below is then a no-op.
      await runner.query(`PREPARE TRANSACTION ${gidLiteral(gid)}`);
      return vote;
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw prepareFailure(gid, error);
    }
  }

  /**
   * The yes vote could not be recorded: not voted, the branch may still abort on its own, and
   * does, so its locks do not wait for a redelivery. Only if no vote row exists: the failure may
   * have come after the vote's commit reached the server. If this fails too, the redelivered
   * prepare finds the prepared transaction without a vote and rolls it back then.
   */
  private async abandon(runner: QueryRunner, gid: string): Promise<void> {
    try {
      if (!(await this.branchRow(runner, gid)) && (await isPrepared(runner, gid))) {
        await rollbackPrepared(runner, gid);
      }
    } catch {
      // The connection is gone; see above.
    }
  }

  /** ONE local transaction: the inbox row, the branch row's change and the reply. */
  private async answer(
    runner: QueryRunner,
    command: Envelope,
    reply: ReplyRoute,
    payload: object,
    record: () => Promise<void>,
  ): Promise<void> {
    await runner.startTransaction();
    try {
      if (!(await recordInbox(runner.manager, this.consumer, command.id))) {
        throw new Error(`${command.type} ${command.id}: handled twice at once`);
      }
      await record();
      await this.outbox.enqueue(runner.manager, {
        ...reply,
        correlationId: command.correlationId,
        causationId: command.id,
        payload,
      });
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }

  private async branchRow(runner: QueryRunner, gid: string): Promise<BranchRow | undefined> {
    const rows: BranchRow[] = await runner.query(
      'SELECT state, command, vote FROM twopc_branches WHERE gid = $1',
      [gid],
    );
    return rows[0];
  }

  private async insertBranch(
    runner: QueryRunner,
    gid: string,
    state: BranchState,
    { command, vote }: { command: object; vote: Vote | null },
  ): Promise<void> {
    const orderId = gid.split(':')[2];
    await runner.query(
      `INSERT INTO twopc_branches (gid, order_id, branch, state, command, vote)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)`,
      [gid, orderId, this.branch, state, JSON.stringify(command), vote && JSON.stringify(vote)],
    );
  }

  private async setState(runner: QueryRunner, gid: string, state: BranchState): Promise<void> {
    await runner.query(
      'UPDATE twopc_branches SET state = $2, updated_at = now() WHERE gid = $1 AND state <> $2',
      [gid, state],
    );
  }

  private async committedMarker(runner: QueryRunner, gid: string): Promise<boolean> {
    const rows: unknown[] = await runner.query('SELECT 1 FROM twopc_committed WHERE gid = $1', [
      gid,
    ]);
    return rows.length === 1;
  }
}

/** Back to the pool, or closed (pg-pool discards a client released with an error). */
async function releaseConnection(runner: QueryRunner, failure: unknown): Promise<void> {
  const postgres = runner as QueryRunner & { releasePostgresConnection?(error?: unknown): unknown };
  if (failure && postgres.releasePostgresConnection)
    await postgres.releasePostgresConnection(failure);
  else await runner.release();
}

function invalid(command: Envelope, reason: string): InvalidMessageError {
  return new InvalidMessageError(`${command.type} ${command.id}: ${reason}`);
}

/**
 * The Nest provider of a participant service's PreparedTransactionParticipant, like
 * `barrierParticipantProvider`: its database, inbox consumer and branch of that name.
 */
export function preparedTransactionParticipantProvider(
  participant: string,
  databases: InjectionToken<{ get(name: string): DataSource }>,
  ids: InjectionToken<IdGenerator>,
  options?: PreparedTransactionParticipantOptions,
): FactoryProvider<PreparedTransactionParticipant> {
  return {
    provide: PreparedTransactionParticipant,
    inject: [databases, ids],
    useFactory: (list: { get(name: string): DataSource }, idGenerator: IdGenerator) =>
      new PreparedTransactionParticipant(
        list.get(participant),
        participant,
        participant,
        new Outbox(idGenerator),
        options,
      ),
  };
}

/** At most `size` calls of `run` at once; the others wait, first come first served. */
class Slots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error('maxConcurrentPrepares must be ≥ 1');
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, if any; `running` counts it still.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
