// The skeleton under every coordinator (saga, TCC, two-phase commit).
export { FlowEngine, policyOf, type EngineOptions, type FlowStore } from './flow-engine.js';
export {
  FlowReplyError,
  type FlowReply,
  type IgnoredReply,
  type ReplyResult,
} from './flow-reply.js';
export {
  observeSteps,
  TIMEOUT_REASON,
  type HistoryLine,
  type StepOutcome,
  type StepRecord,
} from './flow-history.js';
export type { FlowProtocol } from './flow-steps.js';
export { backoffDelayMs, type BackoffPolicy } from './backoff.js';
