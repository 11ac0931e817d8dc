import { BarrierParticipant, commandOrderId, type ReplyRoute } from '@app/dist-core/barrier';
import { orderFlowMessages, type OrderLine, type StockCommand } from '@app/order-flow-api';
import { InvalidMessageError, OnMessage, type Envelope } from '@app/dist-core/kafka';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ReservationMismatchError, StockLedger } from './stock-ledger.js';
import { SKU_PATTERN, SKU_RULE } from './sku.js';

// Inventory's own reply topic: the only one it may write, so the order service knows the sender.
const SAGA_REPLY: ReplyRoute = orderFlowMessages.route('inventory.saga.reply');
const TCC_REPLY: ReplyRoute = orderFlowMessages.route('inventory.tcc.reply');

/**
 * Inventory's part of both order flows. A saga's reserve / confirm / release and a TCC's
 * try / confirm / cancel are the same three barrier operations on the same stock; only the
 * reply type differs, so that each reply reaches its own engine.
 *
 * Replies (payloads of `inventory.saga.reply` / `inventory.tcc.reply`, on inventory.replies):
 *   reserve, try      {outcome: 'SUCCESS', items: [{sku, quantity, unitPriceCents}], totalCents}
 *                     {outcome: 'FAILURE', reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'REFUSED'}
 *   confirm, release  {outcome: 'SUCCESS'} or {outcome: 'FAILURE', reason: 'REFUSED'}
 * REFUSED: the order's branch was already settled the other way (e.g. a try after its cancel).
 * Every command names the order's lines; a confirm or release whose lines are not the ones its
 * try reserved is dead-lettered and changes nothing.
 */
@Controller()
export class StockCommandsController {
  constructor(
    private readonly participant: BarrierParticipant,
    private readonly ledger: StockLedger,
  ) {}

  @OnMessage(orderFlowMessages, 'inventory.saga.reserve', { batchable: true })
  sagaReserve(@Payload() command: Envelope<StockCommand>) {
    return this.reserve(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.try', { batchable: true })
  tccTry(@Payload() command: Envelope<StockCommand>) {
    return this.reserve(command, TCC_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.saga.confirm', { batchable: true })
  sagaConfirm(@Payload() command: Envelope<StockCommand>) {
    return this.sell(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.confirm', { batchable: true })
  tccConfirm(@Payload() command: Envelope<StockCommand>) {
    return this.sell(command, TCC_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.saga.release', { batchable: true })
  sagaRelease(@Payload() command: Envelope<StockCommand>) {
    return this.release(command, SAGA_REPLY);
  }

  @OnMessage(orderFlowMessages, 'inventory.tcc.cancel', { batchable: true })
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
    const lines = commandLines(command);
    return refusingMismatch(
      this.participant.confirm(command, reply, (manager) =>
        this.ledger.sell(manager, orderId, lines),
      ),
    );
  }

  private release(command: Envelope<StockCommand>, reply: ReplyRoute) {
    const orderId = commandOrderId(command);
    const lines = commandLines(command);
    return refusingMismatch(
      this.participant.cancel(command, reply, (manager) =>
        this.ledger.release(manager, orderId, lines),
      ),
    );
  }
}

/** A settlement naming other lines than the reservation: rolled back whole, then dead-lettered. */
async function refusingMismatch<T>(handled: Promise<T>): Promise<T> {
  try {
    return await handled;
  } catch (error) {
    if (error instanceof ReservationMismatchError) throw new InvalidMessageError(error.message);
    throw error;
  }
}

/** CONTRACT.md's limits on an order's lines, enforced again here: a command is input too. */
export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 10_000;

/** The lines of a reserve (try) command: 1–100 distinct SKUs, each quantity 1–10000. */
export function commandLines(envelope: Envelope<unknown>): OrderLine[] {
  const { items } = envelope.payload as { items?: unknown };
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_LINES) {
    throw new InvalidMessageError(`items must be an array of 1-${MAX_LINES} lines`);
  }
  const seen = new Set<string>();
  return items.map((item: unknown, index) => {
    const { sku, quantity } = (item ?? {}) as { sku?: unknown; quantity?: unknown };
    if (typeof sku !== 'string' || !SKU_PATTERN.test(sku)) {
      throw new InvalidMessageError(`items.${index}.sku must be ${SKU_RULE}`);
    }
    if (seen.has(sku)) throw new InvalidMessageError(`items.${index}.sku ${sku} is repeated`);
    seen.add(sku);
    if (
      typeof quantity !== 'number' ||
      !Number.isInteger(quantity) ||
      quantity < 1 ||
      quantity > MAX_LINE_QUANTITY
    ) {
      throw new InvalidMessageError(
        `items.${index}.quantity must be an integer from 1 to ${MAX_LINE_QUANTITY}`,
      );
    }
    return { sku, quantity };
  });
}
