// Participant side: the barrier every Try, Confirm and Cancel handler runs its change through.
export {
  TccBarrier,
  REFUSED_REASON,
  tryReplyPayload,
  phaseTwoReplyPayload,
  type BranchKey,
  type TccBarrierOptions,
  type TccOp,
  type TryResult,
  type TryOutcome,
  type ConfirmOutcome,
  type CancelOutcome,
} from './tcc-barrier.js';
// Coordinator side: the global transaction log and its state machine.
export {
  TccCoordinator,
  TccAlreadyBegunError,
  TccReplyError,
  type TccCoordinatorOptions,
  type TccReplyResult,
} from './tcc-coordinator.js';
export {
  DEFAULT_TCC_POLICY,
  TCC_TIMEOUT_REASON,
  type TccBranch,
  type TccBranchState,
  type TccContext,
  type TccDefinition,
  type TccHistoryEntry,
  type TccPolicy,
  type TccProgress,
  type TccReply,
  type TccStatus,
  type TccTransaction,
} from './tcc-definition.js';
export {
  beginTransition,
  replyTransition,
  dueTransition,
  retryDelayMs,
  type IgnoredReply,
  type MachineContext,
  type TccCommand,
  type TccTransition,
} from './tcc-machine.js';
export {
  tccBarrierMigrations,
  tccBarrierRetention,
  tccCoordinatorMigrations,
  TccBarrier1795740000400,
  TccBarrierCreatedAt1796100000400,
  TccTransactions1795740000500,
} from './tcc.migrations.js';
// Participant side, for saga and TCC alike: inbox + barrier + reply in one local transaction.
export { BarrierParticipant, type ReplyRoute } from './barrier-participant.js';
export { TccRecovery } from './tcc-recovery.js';
