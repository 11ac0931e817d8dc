import type { EngineOptions, BackoffPolicy } from '../engine/index.js';
import type { Outbox } from '../outbox/index.js';
import { TccCoordinator } from '../tcc/index.js';
import type { TwoPhaseCommitDefinition } from './twopc-definition.js';

export interface TwoPhaseCommitOptions extends EngineOptions {
  /** From begin until a participant that has not voted counts as a no (reason TIMEOUT). */
  prepareTimeoutMs?: number;
  /** Commit/rollback re-sends, until every prepared participant acknowledged. */
  backoff?: BackoffPolicy;
}

/**
 * The two-phase commit coordinator, with presumed abort: TCC's coordinator under the flow label
 * '2pc' (why the same one: README.md). Prepares run one after another, each participant holding
 * its change in a PostgreSQL prepared transaction and voting in its reply; every yes moves to
 * COMMITTING (TCC's CONFIRMING), any no or the deadline to ROLLING BACK (CANCELLING). That
 * compare-and-set on the order's shard is the decision's durable record; until it happened there
 * is no commit record, so recovery rolls back (presumed abort). The decision is re-sent to every
 * participant asked to prepare until each acknowledges, never abandoned: a participant that
 * voted yes never decides on its own.
 */
export class TwoPhaseCommitCoordinator<I> extends TccCoordinator<I> {
  constructor(
    definition: TwoPhaseCommitDefinition<I>,
    outbox: Pick<Outbox, 'enqueue' | 'nextId'>,
    { prepareTimeoutMs, ...options }: TwoPhaseCommitOptions,
  ) {
    super(definition, outbox, { ...options, tryTimeoutMs: prepareTimeoutMs }, '2pc');
  }
}
