export { defineSaga, SagaDefinition, SagaDefinitionError, StepBuilder } from './saga-definition.js';
export type {
  CommandBuilder,
  SagaCommand,
  SagaHooks,
  SagaReplyPayload,
  SagaStep,
  StepStart,
} from './saga-definition.js';
export { ACTIVE_STATUSES, TIMEOUT_REASON } from './saga-instance.js';
export type {
  SagaCommandKind,
  SagaHistoryEntry,
  SagaInstance,
  SagaProgress,
  SagaStatus,
  SagaStepOutcome,
} from './saga-instance.js';
export { DEFAULT_SAGA_POLICY, backoffDelayMs } from './saga-policy.js';
export type { BackoffPolicy, SagaPolicy } from './saga-policy.js';
export {
  awaitedCommand,
  dueAt,
  dueTransition,
  replyTransition,
  resumeTransition,
  startTransition,
  SagaStateError,
} from './saga-machine.js';
export type { IgnoredReply, MachineContext, SagaTransition } from './saga-machine.js';
export {
  SagaOrchestrator,
  SagaAlreadyStartedError,
  SagaNotFoundError,
  SagaReplyError,
} from './saga-orchestrator.js';
export type { ReplyResult, SagaOrchestratorOptions } from './saga-orchestrator.js';
export { SagaRecovery } from './saga-recovery.js';
export type { SagaRecoveryOptions } from './saga-recovery.js';
export { UnknownSagaStepError } from './saga-store.js';
export { sagaMigrations, CreateSagaTables1795787670941 } from './saga.migrations.js';
export { countParkedSagas } from './saga-metrics.js';
