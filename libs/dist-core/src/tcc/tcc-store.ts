import type { EntityManager } from 'typeorm';
import type { FlowStore } from '../engine/index.js';
import type { TccBranchState, TccProgress, TccTransaction } from './tcc-definition.js';

interface TransactionRow {
  gid: string;
  kind: string;
  status: TccTransaction['status'];
  input: unknown;
  results: TccProgress['results'];
  branches: TccBranchState[];
  history: TccProgress['history'];
  reason: string | null;
  attempts: number;
  deadline: Date;
  next_attempt_at: Date | null;
  version: string;
  lease_owner: string | null;
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The SQL of the global transaction log (`tcc_transactions`) for one kind, and nothing else. */
export class TccStore<I> implements FlowStore<TccTransaction<I>> {
  constructor(private readonly kind: string) {}

  /** False if a transaction with this gid exists already. */
  async insert(
    manager: EntityManager,
    tx: {
      gid: string;
      kind: string;
      input: unknown;
      progress: TccProgress;
      now: Date;
      traceparent: string | null;
    },
  ): Promise<boolean> {
    const p = tx.progress;
    const rows: unknown[] = await manager.query(
      `INSERT INTO tcc_transactions (gid, kind, status, input, results, branches, history, reason,
         attempts, deadline, next_attempt_at, created_at, updated_at, traceparent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
       ON CONFLICT (gid) DO NOTHING RETURNING 1`,
      [
        tx.gid,
        tx.kind,
        p.status,
        JSON.stringify(tx.input),
        ...progressParams(p),
        tx.now,
        tx.traceparent,
      ],
    );
    return rows.length === 1;
  }

  /** The traceparent the transaction began in, if it began inside a trace. */
  async traceparent(manager: EntityManager, gid: string): Promise<string | null> {
    const rows: { traceparent: string | null }[] = await manager.query(
      'SELECT traceparent FROM tcc_transactions WHERE gid = $1',
      [gid],
    );
    return rows[0]?.traceparent ?? null;
  }

  /** The transaction, or null if there is none of this store's kind. */
  async load(manager: EntityManager, gid: string): Promise<TccTransaction<I> | null> {
    const rows: TransactionRow[] = await manager.query(
      'SELECT * FROM tcc_transactions WHERE gid = $1 AND kind = $2',
      [gid, this.kind],
    );
    return rows.length === 1 ? fromRow<I>(rows[0]) : null;
  }

  /**
   * Replaces the progress if the row is still at the status and version `current` was read at;
   * returns the new version, or null if another transition got there first. Clears the lease:
   * what is due next is anyone's to drive. A row UPDATEd here stays locked by this transaction
   * until it commits, so follow-up writes in the same transaction need no guard.
   */
  async compareAndSet(
    manager: EntityManager,
    current: TccTransaction<unknown>,
    next: TccProgress,
    now: Date,
  ): Promise<string | null> {
    const [rows] = (await manager.query(
      `UPDATE tcc_transactions
          SET status = $4, results = $5, branches = $6, history = $7, reason = $8, attempts = $9,
              deadline = $10, next_attempt_at = $11, updated_at = $12,
              version = version + 1, lease_owner = NULL, lease_until = NULL
        WHERE gid = $1 AND status = $2 AND version = $3
        RETURNING version`,
      [current.gid, current.status, current.version, next.status, ...progressParams(next), now],
    )) as [{ version: string }[], number];
    return rows.length === 1 ? rows[0].version : null;
  }

  /**
   * Leases due transactions of this kind to `owner`. SKIP LOCKED lets instances claim side by side
   * without waiting on each other; the lease keeps a claimed row from being claimed again until
   * it runs out — which is how a crashed instance's claims come back.
   */
  async claimDue(
    manager: EntityManager,
    claim: { owner: string; now: Date; leaseUntil: Date; limit: number },
  ): Promise<string[]> {
    const [rows] = (await manager.query(
      `UPDATE tcc_transactions SET lease_owner = $2, lease_until = $4
        WHERE gid IN (
          SELECT gid FROM tcc_transactions
           WHERE kind = $1 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
           ORDER BY next_attempt_at
           LIMIT $5
           FOR UPDATE SKIP LOCKED)
        RETURNING gid`,
      [this.kind, claim.owner, claim.now, claim.leaseUntil, claim.limit],
    )) as [{ gid: string }[], number];
    return rows.map((r) => r.gid);
  }

  async releaseLease(manager: EntityManager, gid: string, owner: string): Promise<void> {
    await manager.query(
      `UPDATE tcc_transactions SET lease_owner = NULL, lease_until = NULL
        WHERE gid = $1 AND lease_owner = $2`,
      [gid, owner],
    );
  }
}

/** $5..$11 of insert and compare-and-set, in column order. */
function progressParams(p: TccProgress): unknown[] {
  return [
    JSON.stringify(p.results),
    JSON.stringify(p.branches),
    JSON.stringify(p.history),
    p.reason,
    p.attempts,
    new Date(p.deadline),
    p.nextAttemptAt === null ? null : new Date(p.nextAttemptAt),
  ];
}

function fromRow<I>(row: TransactionRow): TccTransaction<I> {
  return {
    gid: row.gid,
    kind: row.kind,
    status: row.status,
    input: row.input as I,
    results: row.results,
    branches: row.branches,
    // Lines written before every line had a reason carry none when it was null.
    history: row.history.map((line) => ({ ...line, reason: line.reason ?? null })),
    reason: row.reason,
    attempts: row.attempts,
    deadline: row.deadline.getTime(),
    nextAttemptAt: row.next_attempt_at?.getTime() ?? null,
    version: row.version,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
