// The order flow's message contracts, owned by the flow (as eventuate's participant-owned
// `*-api` modules): the order service and both participants import them, so a renamed type or
// a changed payload breaks the build of every side, not production.
export {
  INVENTORY_REASONS,
  orderFlowMessages,
  PAYMENT_REASONS,
  REASONS_BY_PARTICIPANT,
  TOPICS,
} from './order-flow.js';
export type {
  BusinessReason,
  FundsCommand,
  OrderFlowMessageType,
  OrderLine,
  ParticipantReply,
  PricedLine,
  StockCommand,
} from './order-flow.js';
