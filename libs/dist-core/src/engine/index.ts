// The contents page: the skeleton under every coordinator (saga, TCC, two-phase commit). A
// protocol extends FlowEngine with its pure machine and one compare-and-set (`commit`), and
// keeps its rows behind FlowStore; replies, history lines and backoff are the same for all.
export {
  FlowEngine,
  FlowReplyError,
  TIMEOUT_REASON,
  type EngineOptions,
  type FlowReply,
  type FlowStore,
  type HistoryLine,
  type IgnoredReply,
  type ReplyResult,
  type StepOutcome,
} from './flow-engine.js';
export { backoffDelayMs, type BackoffPolicy } from './backoff.js';
