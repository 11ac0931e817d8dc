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
