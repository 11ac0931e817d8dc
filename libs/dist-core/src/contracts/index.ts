export { orderFlowMessages, TOPICS } from './order-flow.js';
export type {
  BusinessReason,
  FundsCommand,
  OrderFlowMessageType,
  OrderLine,
  ParticipantReply,
  PricedLine,
  StockCommand,
} from './order-flow.js';
