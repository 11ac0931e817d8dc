import { orderFlowMessages, type StockCommand } from '@app/dist-core/contracts';
import { OnMessage, type Envelope } from '@app/dist-core/kafka';
import { BarrierParticipant, type ReplyRoute } from '@app/dist-core/tcc';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { commandLines, commandOrderId } from './stock-command.js';
import { StockLedger } from './stock-ledger.js';

const SAGA_REPLY: ReplyRoute = orderFlowMessages.route('saga.reply');
const TCC_REPLY: ReplyRoute = orderFlowMessages.route('tcc.reply');

/**
 * Inventory's part of both order flows. A saga's reserve / confirm / release and a TCC's
 * try / confirm / cancel are the same three barrier operations on the same stock; only the
 * reply type differs, so that each reply reaches its own engine.
 *
 * Replies (payloads of `saga.reply` / `tcc.reply`):
 *   reserve, try      {outcome: 'SUCCESS', items: [{sku, quantity, unitPriceCents}], totalCents}
 *                     {outcome: 'FAILURE', reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'REFUSED'}
 *   confirm, release  {outcome: 'SUCCESS'} or {outcome: 'FAILURE', reason: 'REFUSED'}
 * REFUSED: the order's branch was already settled the other way (e.g. a try after its cancel).
 */
@Controller()
export class StockCommandsController {
  constructor(
    private readonly participant: BarrierParticipant,
    private readonly ledger: StockLedger,
  ) {}

  @OnMessage(orderFlowMessages, 'inventory.saga.reserve')
  sagaReserve(@Payload() command: Envelope<StockCommand>) {
    return this.reserve(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.try')
  tccTry(@Payload() command: Envelope<StockCommand>) {
    return this.reserve(command, TCC_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.saga.confirm')
  sagaConfirm(@Payload() command: Envelope<StockCommand>) {
    return this.sell(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.confirm')
  tccConfirm(@Payload() command: Envelope<StockCommand>) {
    return this.sell(command, TCC_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.saga.release')
  sagaRelease(@Payload() command: Envelope<StockCommand>) {
    return this.release(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.cancel')
  tccCancel(@Payload() command: Envelope<StockCommand>) {
    return this.release(command, TCC_REPLY);
  }

  private reserve(command: Envelope<StockCommand>, reply: ReplyRoute) {
    const orderId = commandOrderId(command);
    const lines = commandLines(command);
    return this.participant.try(command, reply, (manager) =>
      this.ledger.reserve(manager, orderId, lines),
    );
  }

  private sell(command: Envelope<StockCommand>, reply: ReplyRoute) {
    const orderId = commandOrderId(command);
    return this.participant.confirm(command, reply, (manager) =>
      this.ledger.sell(manager, orderId),
    );
  }

  private release(command: Envelope<StockCommand>, reply: ReplyRoute) {
    const orderId = commandOrderId(command);
    return this.participant.cancel(command, reply, (manager) =>
      this.ledger.release(manager, orderId),
    );
  }
}
