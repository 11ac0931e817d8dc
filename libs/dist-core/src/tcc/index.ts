export {
  TccBarrier,
  REFUSED_REASON,
  tryReplyPayload,
  phaseTwoReplyPayload,
  type BranchKey,
  type TccOp,
  type TryResult,
  type TryOutcome,
  type ConfirmOutcome,
  type CancelOutcome,
} from './tcc-barrier.js';
export {
  tccBarrierMigrations,
  tccCoordinatorMigrations,
  TccBarrier1764201600000,
  TccTransactions1764201600001,
} from './tcc.migrations.js';
