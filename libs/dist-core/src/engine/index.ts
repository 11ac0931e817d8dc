// The skeleton under every coordinator (saga, TCC, two-phase commit).
export {
  FlowEngine,
  FlowReplyError,
  observeSteps,
  policyOf,
  TIMEOUT_REASON,
  type EngineOptions,
  type FlowReply,
  type FlowStore,
  type HistoryLine,
  type IgnoredReply,
  type ReplyResult,
  type StepOutcome,
  type StepRecord,
} from './flow-engine.js';
export type { FlowProtocol } from './flow-steps.js';
export { backoffDelayMs, type BackoffPolicy } from './backoff.js';
