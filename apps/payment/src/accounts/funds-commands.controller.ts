import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { orderFlowMessages, type FundsCommand } from '@app/dist-core/contracts';
import { OnMessage, type Envelope } from '@app/dist-core/kafka';
import { Outbox } from '@app/dist-core/outbox';
import { BarrierParticipant } from '@app/dist-core/tcc';
import { AccountsLedger } from './accounts-ledger.js';
import { parseFundsCommand } from './funds-command.js';

const SAGA_REPLY = orderFlowMessages.route('saga.reply');
const TCC_REPLY = orderFlowMessages.route('tcc.reply');

/**
 * The payment participant of both order flows. Each command is answered through the barrier
 * (branch `payment`, keyed by the order id), which makes a re-sent command return the first
 * answer, a compensation without its action a no-op, and an action after its compensation a
 * refusal. UNKNOWN_CUSTOMER and INSUFFICIENT_FUNDS are FAILURE replies; an invalid payload is
 * dead-lettered; a fault (database down) throws and is retried.
 */
@Controller()
export class FundsCommandsController {
  private readonly participant: BarrierParticipant;

  constructor(
    databases: PostgresDatabases,
    ids: ServiceIds,
    private readonly ledger: AccountsLedger,
  ) {
    this.participant = new BarrierParticipant(
      databases.get('payment'),
      'payment',
      'payment',
      new Outbox(ids),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.saga.charge')
  async charge(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await this.participant.try(command, SAGA_REPLY, (manager) =>
      this.ledger.charge(manager, funds),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.saga.refund')
  async refund(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const { orderId } = parseFundsCommand(command);
    await this.participant.cancel(command, SAGA_REPLY, (manager) =>
      this.ledger.refund(manager, orderId),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.try')
  async freeze(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const funds = parseFundsCommand(command);
    await this.participant.try(command, TCC_REPLY, (manager) => this.ledger.freeze(manager, funds));
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.confirm')
  async capture(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const { orderId } = parseFundsCommand(command);
    await this.participant.confirm(command, TCC_REPLY, (manager) =>
      this.ledger.capture(manager, orderId),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.tcc.cancel')
  async unfreeze(@Payload() command: Envelope<FundsCommand>): Promise<void> {
    const { orderId } = parseFundsCommand(command);
    await this.participant.cancel(command, TCC_REPLY, (manager) =>
      this.ledger.unfreeze(manager, orderId),
    );
  }
}
