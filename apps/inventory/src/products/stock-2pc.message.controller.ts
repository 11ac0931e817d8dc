import { commandOrderId, type ReplyRoute } from '@app/dist-core/barrier';
import { OnMessage, type Envelope } from '@app/dist-core/kafka';
import { PreparedTransactionParticipant } from '@app/dist-core/twopc';
import { orderFlowMessages, type OrderLine, type StockCommand } from '@app/order-flow-api';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { commandLines } from './stock-commands.message.controller.js';
import { sameLines, StockLedger } from './stock-ledger.js';

const TWO_PC_REPLY: ReplyRoute = orderFlowMessages.route('inventory.2pc.reply');

/**
 * Inventory's part of two-phase commit (libs/dist-core/src/twopc). The prepare sells the units
 * inside a prepared transaction (StockLedger.sellInPreparedTransaction) and votes; commit and
 * rollback arrive on inventory.decisions, consumed by a consumer of their own (main.ts).
 *
 * Replies (`inventory.2pc.reply`, on inventory.replies):
 *   prepare            {outcome: 'SUCCESS', items: [{sku, quantity, unitPriceCents}], totalCents}
 *                      {outcome: 'FAILURE', reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'REFUSED'}
 *   commit, rollback   {outcome: 'SUCCESS'}
 * REFUSED: the branch was rolled back before this prepare arrived. A decision whose lines are
 * not the prepared ones, or a commit of a branch that did not vote yes, is dead-lettered.
 */
@Controller()
export class Stock2pcController {
  constructor(
    private readonly participant: PreparedTransactionParticipant,
    private readonly ledger: StockLedger,
  ) {}

  @OnMessage(orderFlowMessages, 'inventory.2pc.prepare')
  prepare(@Payload() command: Envelope<StockCommand>) {
    const { orderId, items } = parseStockCommand(command);
    return this.participant.prepare(command, TWO_PC_REPLY, { orderId, items }, (manager) =>
      this.ledger.sellInPreparedTransaction(manager, orderId, items),
    );
  }

  @OnMessage(orderFlowMessages, 'inventory.2pc.commit')
  commit(@Payload() command: Envelope<StockCommand>) {
    const { items } = parseStockCommand(command);
    return this.participant.commit(command, TWO_PC_REPLY, (recorded) => sameItems(recorded, items));
  }

  @OnMessage(orderFlowMessages, 'inventory.2pc.rollback')
  rollback(@Payload() command: Envelope<StockCommand>) {
    const { orderId, items } = parseStockCommand(command);
    return this.participant.rollback(command, TWO_PC_REPLY, { orderId, items }, (recorded) =>
      sameItems(recorded, items),
    );
  }
}

/** Checked as the saga's and TCC's commands are: a command is input too. */
function parseStockCommand(command: Envelope<unknown>): StockCommand {
  return { orderId: commandOrderId(command), items: commandLines(command) };
}

function sameItems(recorded: unknown, items: OrderLine[]): boolean {
  return sameLines((recorded as Partial<StockCommand>).items ?? [], items);
}
