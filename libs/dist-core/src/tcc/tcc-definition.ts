import type { EntityManager } from 'typeorm';
import type { TccOp } from '../barrier/index.js';

/**
 * TRYING → CONFIRMING → CONFIRMED when every Try succeeded, or TRYING → CANCELLING → CANCELLED
 * on the first failure or at the deadline. Phase two never gives up: a Confirm or Cancel is
 * sent again with capped backoff until its participant answers SUCCESS.
 */
export type TccStatus = 'TRYING' | 'CONFIRMING' | 'CANCELLING' | 'CONFIRMED' | 'CANCELLED';

/** The reason a transaction is cancelled when a Try did not answer before the deadline. */
export const TCC_TIMEOUT_REASON = 'TIMEOUT';

/** What the branches' Try commands are built from: the input and the replies gathered so far. */
export interface TccContext<I> {
  gid: string;
  input: I;
  /** Each succeeded Try's reply data (its payload without outcome and reason), by branch name. */
  results: Record<string, Record<string, unknown>>;
}

/** One participant's part: where its commands go and what its Try asks for. */
export interface TccBranch<I> {
  /** The branch name in the participant's barrier, unique within the transaction. */
  name: string;
  /** The participant's command topic. */
  topic: string;
  /** The message type of each command. */
  types: Record<TccOp, string>;
  /**
   * The Try's payload. Branches are tried one after another, in order, so a later branch can
   * use an earlier one's reply (the payment Try charges the total the inventory Try priced).
   * Confirm and Cancel carry the same payload, so a participant needs no lookup to settle.
   */
  tryPayload(context: TccContext<I>): object;
}

export interface TccDefinition<I> {
  /** Names this kind of transaction in the log; a coordinator drives only its own kind. */
  kind: string;
  branches: TccBranch<I>[];
  /** Runs in the transaction that records the last Confirm (e.g. set the order COMPLETED). */
  onConfirmed?: (manager: EntityManager, tx: TccTransaction<I>) => Promise<void>;
  /** Runs in the transaction that records the last Cancel (e.g. set CANCELLED and the reason). */
  onCancelled?: (manager: EntityManager, tx: TccTransaction<I>, reason: string) => Promise<void>;
}

export interface TccPolicy {
  /** From begin until a Try that has not answered counts as failed (reason TIMEOUT). */
  tryTimeoutMs: number;
  /** Confirm/Cancel re-sends: capped exponential backoff with equal jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_TCC_POLICY: TccPolicy = {
  tryTimeoutMs: 10_000,
  retryBaseMs: 1_000,
  retryMaxMs: 10_000,
};

export interface TccBranchState {
  name: string;
  /** The Try's payload; null until the Try is sent. */
  payload: object | null;
  try: 'NOT_SENT' | 'SENT' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  /** Phase two for this branch: null until decided, PENDING until its participant says SUCCESS. */
  settle: 'PENDING' | 'DONE' | null;
  /** The command whose reply this branch waits for: the only reply it accepts. */
  awaitedCommandId: string | null;
}

/** One line of the history the order API shows: `inventory.try SUCCESS at …`. */
export interface TccHistoryEntry {
  step: string;
  outcome: 'SUCCESS' | 'FAILURE' | 'TIMEOUT';
  reason?: string;
  at: string;
}

/** The part of a transaction one compare-and-set replaces. Times are epoch milliseconds. */
export interface TccProgress {
  status: TccStatus;
  results: Record<string, Record<string, unknown>>;
  branches: TccBranchState[];
  history: TccHistoryEntry[];
  reason: string | null;
  /** Rounds of phase-two commands sent so far (0 while trying). */
  attempts: number;
  /** When TRYING gives up. */
  deadline: number;
  /** When the poller must look again (the deadline, or the next re-send); null once finished. */
  nextAttemptAt: number | null;
}

export interface TccTransaction<I = unknown> extends TccProgress {
  gid: string;
  kind: string;
  input: I;
  /** bigint, incremented by every transition: the compare-and-set's guard. */
  version: string;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A participant's answer (the reply envelope's payload); anything else in it is Try data. */
export interface TccReply {
  outcome: 'SUCCESS' | 'FAILURE';
  reason?: string;
  [field: string]: unknown;
}
