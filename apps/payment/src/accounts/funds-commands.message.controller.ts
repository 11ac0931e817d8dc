import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { BarrierParticipant, commandOrderId } from '@app/dist-core/barrier';
import { orderFlowMessages, type FundsCommand } from '@app/order-flow-api';
import { InvalidMessageError, OnMessage, type Envelope } from '@app/dist-core/kafka';
import { AccountsLedger, PaymentMismatchError } from './accounts-ledger.js';
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE } from './account.js';

// Payment's own reply topic: the only one it may write, so the order service knows the sender.
const SAGA_REPLY = orderFlowMessages.route('payment.saga.reply');
const TCC_REPLY = orderFlowMessages.route('payment.tcc.reply');

/**
 * The payment participant of both order flows. Each command is answered through the barrier
 * (branch `payment`, keyed by the order id), which makes a re-sent command return the first
 * answer, a compensation without its action a no-op, an action after its compensation a
 * refusal, and a compensation after the settlement (`payment.saga.settle`, sent when the saga
 * completed, the one command answered by no reply; TCC's confirm) a refusal too. UNKNOWN_CUSTOMER and INSUFFICIENT_FUNDS are FAILURE
 * replies; an invalid payload, or a settlement naming another customer or amount than its Try
 * recorded, is dead-lettered and changes nothing; a fault (database down) throws and is retried.
 */
@Controller()
export class FundsCommandsController {
  private readonly logger = new Logger(FundsCommandsController.name);

  constructor(
    private readonly participant: BarrierParticipant,
    private readonly ledger: AccountsLedger,
  ) {}

  @OnMessage(orderFlowMessages, 'payment.saga.charge', { batchable: true })
  async charge(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await this.participant.try(command, SAGA_REPLY, (manager) =>
      this.ledger.charge(manager, funds),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.saga.refund', { batchable: true })
  async refund(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await refusingMismatch(
      this.participant.cancel(command, SAGA_REPLY, (manager) => this.ledger.refund(manager, funds)),
    );
  }

  /**
   * The saga completed: the charge stands for good (no money moves; later refunds are refused).
   * Nobody awaits an answer, so none is sent; a refusal (the charge was refunded first, which
   * the saga's compare-and-set should make impossible) is logged for an operator.
   */
  @OnMessage(orderFlowMessages, 'payment.saga.settle', { batchable: true })
  async settle(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    const outcome = await refusingMismatch(
      this.participant.settle(command, (manager) => this.ledger.keepCharge(manager, funds)),
    );
    if (outcome === 'refused') {
      this.logger.warn({
        msg: `Settlement ${command.id} refused: the charge of order ${funds.orderId} was refunded`,
        orderId: funds.orderId,
      });
    }
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.try', { batchable: true })
  async freeze(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await this.participant.try(command, TCC_REPLY, (manager) => this.ledger.freeze(manager, funds));
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.confirm', { batchable: true })
  async capture(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await refusingMismatch(
      this.participant.confirm(command, TCC_REPLY, (manager) =>
        this.ledger.capture(manager, funds),
      ),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.cancel', { batchable: true })
  async unfreeze(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await refusingMismatch(
      this.participant.cancel(command, TCC_REPLY, (manager) =>
        this.ledger.unfreeze(manager, funds),
      ),
    );
  }
}

/** A settlement that names another payment than its Try's: rolled back whole, then dead-lettered. */
async function refusingMismatch<T>(handled: Promise<T>): Promise<T> {
  try {
    return await handled;
  } catch (error) {
    if (error instanceof PaymentMismatchError) throw new InvalidMessageError(error.message);
    throw error;
  }
}

/**
 * A payment command's payload, checked: it can never succeed otherwise, so the caller's
 * InvalidMessageError sends it to the dead-letter topic instead of retrying it. Fields beyond
 * these are allowed (the TCC coordinator adds `gid` and `branch`).
 */
export function parseFundsCommand(envelope: Envelope): FundsCommand {
  const payload = envelope.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid(envelope, 'payload must be an object');
  }
  const orderId = commandOrderId(envelope);
  const { customerId, amountCents } = payload as Record<string, unknown>;
  if (typeof customerId !== 'string' || !CUSTOMER_ID_PATTERN.test(customerId)) {
    throw invalid(envelope, `customerId must be ${CUSTOMER_ID_RULE}`);
  }
  // An order's total is positive (every price is): a charge of 0 is no order's.
  if (typeof amountCents !== 'number' || !Number.isSafeInteger(amountCents) || amountCents < 1) {
    throw invalid(envelope, 'amountCents must be an integer from 1 to 2^53 - 1');
  }
  return { orderId, customerId, amountCents };
}

function invalid(envelope: Envelope, reason: string): InvalidMessageError {
  return new InvalidMessageError(`${envelope.type} ${envelope.id}: ${reason}`);
}
