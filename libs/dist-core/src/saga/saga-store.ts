import type { EntityManager } from 'typeorm';
import type { FlowStore, HistoryLine, StepOutcome } from '../engine/index.js';
import type {
  SagaDefinition,
  SagaHistoryEntry,
  SagaInstance,
  SagaProgress,
  SagaStatus,
} from './saga-definition.js';

/** The SQL of the two saga tables. Every state change goes through `compareAndSet`. */

interface SagaRow {
  id: string;
  saga_type: string;
  status: SagaStatus;
  current_step: string;
  attempt: number;
  data: unknown;
  version: string;
  awaited_command_id: string | null;
  step_deadline: Date | null;
  saga_deadline: Date | null;
  next_attempt_at: Date | null;
  failure_reason: string | null;
  parked_from: 'RUNNING' | 'COMPENSATING' | null;
  parked_reason: string | null;
  lease_owner: string | null;
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface HistoryRow {
  step: string;
  kind: SagaHistoryEntry['kind'];
  outcome: string;
  reason: string | null;
  at: Date;
}

// Rows written before saga and TCC shared one vocabulary; read as the words they mean now.
const EARLIER_OUTCOMES: Record<string, StepOutcome> = {
  SUCCEEDED: 'SUCCESS',
  COMPENSATED: 'SUCCESS',
  FAILED: 'FAILURE',
  TIMED_OUT: 'TIMEOUT',
};

export class UnknownSagaStepError extends Error {
  constructor(sagaId: string, sagaType: string, step: string) {
    super(`Saga ${sagaId} (${sagaType}) is at step ${step}, which its definition does not have`);
    this.name = 'UnknownSagaStepError';
  }
}

/**
 * INSERTs history lines given as a JSON array (SagaHistoryEntry without `at`), in array order;
 * with `joined`, only if that CTE returned a row.
 */
function insertHistorySql(
  joined: string | null,
  sagaId: string,
  lines: string,
  at: string,
): string {
  return `INSERT INTO saga_steps (saga_id, step, kind, attempt, outcome, reason, command_id, at)
    SELECT ${sagaId}, line->>'step', line->>'kind', (line->>'attempt')::int, line->>'outcome',
           line->>'reason', (line->>'commandId')::bigint, ${at}
      FROM ${joined ? `${joined}, ` : ''}jsonb_array_elements(${lines}::jsonb) WITH ORDINALITY AS l(line, n)
     ORDER BY n`;
}

/** TypeORM's query() answers an UPDATE with [rows, rowCount] and a SELECT or INSERT with rows. */
async function update<R>(
  manager: EntityManager,
  sql: string,
  params: unknown[],
): Promise<{ rows: R[]; count: number }> {
  const [rows, count] = (await manager.query(sql, params)) as [R[], number];
  return { rows, count };
}

export class SagaStore implements FlowStore<SagaInstance> {
  constructor(private readonly definitions: ReadonlyMap<string, SagaDefinition<unknown>>) {}

  /** Inserts a new saga; false if one with this id exists (one saga per correlation id). */
  async insert(
    manager: EntityManager,
    saga: {
      id: string;
      sagaType: string;
      progress: SagaProgress<unknown>;
      now: Date;
      traceparent: string | null;
      /** The id of the command the start sends, if it sends one. */
      awaitedCommandId: string | null;
    },
  ): Promise<boolean> {
    const { progress: p } = saga;
    const rows = (await manager.query(
      `INSERT INTO saga_instances (id, saga_type, status, current_step, attempt, data, version,
         step_deadline, saga_deadline, next_attempt_at, failure_reason, parked_from, parked_reason,
         created_at, updated_at, traceparent, awaited_command_id)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, 0, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        saga.id,
        saga.sagaType,
        p.status,
        this.stepName(saga.sagaType, p.stepIndex),
        p.attempt,
        JSON.stringify(p.data),
        p.stepDeadline,
        p.sagaDeadline,
        p.nextAttemptAt,
        p.failureReason,
        p.parkedFrom,
        p.parkedReason,
        saga.now,
        saga.traceparent,
        saga.awaitedCommandId,
      ],
    )) as unknown[];
    return rows.length === 1;
  }

  /** The traceparent the saga was started in, if it was started inside a trace. */
  async traceparent(manager: EntityManager, id: string): Promise<string | null> {
    const rows = (await manager.query(`SELECT traceparent FROM saga_instances WHERE id = $1`, [
      id,
    ])) as { traceparent: string | null }[];
    return rows[0]?.traceparent ?? null;
  }

  /** The saga, or null if there is none or its type is not one this store knows. */
  async load(manager: EntityManager, id: string): Promise<SagaInstance | null> {
    const rows = (await manager.query(`SELECT * FROM saga_instances WHERE id = $1`, [
      id,
    ])) as SagaRow[];
    return rows.length === 0 ? null : this.toInstance(rows[0]);
  }

  /**
   * The compare-and-set every transition goes through: it writes only if the saga is still in
   * the status, at the step and at the version its caller read. A reply and a timeout, two
   * duplicate replies or two pollers that read the same version cannot both write: the loser
   * updates no row and re-reads. It also ends any lease: the claim it protected is moot.
   * Returns the new version, or null if the saga moved on meanwhile.
   */
  async compareAndSet(
    manager: EntityManager,
    expected: SagaInstance,
    next: SagaProgress<unknown>,
    now: Date,
    /** The command the transition sends (its outbox id), or null: the reply it waits for. */
    awaitedCommandId: string | null,
    /** The transition's history lines, written only if the compare-and-set wins. */
    history: Omit<SagaHistoryEntry, 'at'>[],
  ): Promise<string | null> {
    // One statement, one round trip: the history lines join the updated row, so they are
    // written exactly when the compare-and-set wins.
    const rows = (await manager.query(
      `WITH moved AS (
         UPDATE saga_instances
            SET status = $5, current_step = $6, attempt = $7, data = $8::jsonb,
                step_deadline = $9, saga_deadline = $10, next_attempt_at = $11,
                failure_reason = $12, parked_from = $13, parked_reason = $14,
                awaited_command_id = $16, lease_owner = NULL, lease_until = NULL,
                version = version + 1, updated_at = $15
          WHERE id = $1 AND status = $2 AND current_step = $3 AND version = $4
          RETURNING version
       ), history AS (
         ${insertHistorySql('moved', '$1', '$17', '$15')}
       )
       SELECT version FROM moved`,
      [
        expected.id,
        expected.status,
        expected.currentStep,
        expected.version,
        next.status,
        this.stepName(expected.sagaType, next.stepIndex),
        next.attempt,
        JSON.stringify(next.data),
        next.stepDeadline,
        next.sagaDeadline,
        next.nextAttemptAt,
        next.failureReason,
        next.parkedFrom,
        next.parkedReason,
        now,
        awaitedCommandId,
        JSON.stringify(history),
      ],
    )) as { version: string }[];
    return rows.length === 1 ? rows[0].version : null;
  }

  /** Appends history lines (a new saga's first ones) in one statement. */
  async appendHistory(
    manager: EntityManager,
    sagaId: string,
    entries: Omit<SagaHistoryEntry, 'at'>[],
    now: Date,
  ): Promise<void> {
    if (entries.length === 0) return;
    await manager.query(insertHistorySql(null, '$1', '$2', '$3'), [
      sagaId,
      JSON.stringify(entries),
      now,
    ]);
  }

  /** The saga's history in the engine's format: a compensation is `<step>.compensation`. */
  async history(manager: EntityManager, sagaId: string): Promise<HistoryLine[]> {
    const rows = (await manager.query(
      `SELECT step, kind, outcome, reason, at FROM saga_steps WHERE saga_id = $1 ORDER BY id`,
      [sagaId],
    )) as HistoryRow[];
    return rows.map((r) => ({
      step: r.kind === 'compensation' ? `${r.step}.compensation` : r.step,
      outcome: EARLIER_OUTCOMES[r.outcome] ?? (r.outcome as StepOutcome),
      reason: r.reason,
      at: r.at.toISOString(),
    }));
  }

  /**
   * Claims up to `limit` sagas that have something due and no live lease, for `owner` until
   * `leaseUntil`. SKIP LOCKED lets several instances claim at once without waiting on each other
   * or on a reply handler holding a row. The lease keeps other instances from repeating the
   * work while the claimer drives the saga; correctness never rests on it (the compare-and-set
   * does), so a claimer that paused past its lease is harmless.
   */
  async claimDue(
    manager: EntityManager,
    args: { owner: string; now: Date; leaseUntil: Date; limit: number },
  ): Promise<string[]> {
    const { rows } = await update<{ id: string }>(
      manager,
      `UPDATE saga_instances SET lease_owner = $2, lease_until = $3
        WHERE id IN (
          SELECT id FROM saga_instances
           WHERE saga_type = ANY($4)
             AND status IN ('RUNNING', 'COMPENSATING')
             AND (step_deadline <= $1 OR next_attempt_at <= $1
                  OR (status = 'RUNNING' AND saga_deadline <= $1))
             AND (lease_until IS NULL OR lease_until <= $1)
           ORDER BY id
           LIMIT $5
           FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [args.now, args.owner, args.leaseUntil, [...this.definitions.keys()], args.limit],
    );
    return rows.map((r) => r.id);
  }

  /** Gives a claim back when the saga turned out to have nothing due (a reply won the race). */
  async releaseLease(manager: EntityManager, id: string, owner: string): Promise<void> {
    await manager.query(
      `UPDATE saga_instances SET lease_owner = NULL, lease_until = NULL
        WHERE id = $1 AND lease_owner = $2`,
      [id, owner],
    );
  }

  async listByStatus(
    manager: EntityManager,
    status: SagaStatus,
    limit: number,
  ): Promise<SagaInstance[]> {
    const rows = (await manager.query(
      `SELECT * FROM saga_instances WHERE saga_type = ANY($1) AND status = $2
        ORDER BY updated_at, id LIMIT $3`,
      [[...this.definitions.keys()], status, limit],
    )) as SagaRow[];
    return rows.map((r) => this.toInstance(r)).filter((s): s is SagaInstance => s !== null);
  }

  private stepName(sagaType: string, index: number): string {
    return this.definitions.get(sagaType)!.steps[index].name;
  }

  private toInstance(row: SagaRow): SagaInstance | null {
    const definition = this.definitions.get(row.saga_type);
    if (!definition) return null;
    const stepIndex = definition.steps.findIndex((s) => s.name === row.current_step);
    if (stepIndex < 0) throw new UnknownSagaStepError(row.id, row.saga_type, row.current_step);
    const instance: SagaInstance = {
      id: row.id,
      sagaType: row.saga_type,
      currentStep: row.current_step,
      version: row.version,
      awaitedCommandId: row.awaited_command_id,
      leaseOwner: row.lease_owner,
      leaseUntil: row.lease_until,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      status: row.status,
      stepIndex,
      attempt: row.attempt,
      data: row.data,
      stepDeadline: row.step_deadline,
      sagaDeadline: row.saga_deadline,
      nextAttemptAt: row.next_attempt_at,
      failureReason: row.failure_reason,
      parkedFrom: row.parked_from,
      parkedReason: row.parked_reason,
    };
    return instance;
  }
}

/** Parked sagas by type: each needs an operator (the partial index keeps this cheap). */
export async function countParkedSagas(manager: EntityManager): Promise<Map<string, number>> {
  const rows = (await manager.query(
    `SELECT saga_type, count(*)::int AS parked FROM saga_instances
      WHERE status = 'PARKED' GROUP BY saga_type`,
  )) as { saga_type: string; parked: number }[];
  return new Map(rows.map((row) => [row.saga_type, row.parked]));
}
