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
export { TccRecovery } from './tcc-recovery.js';
