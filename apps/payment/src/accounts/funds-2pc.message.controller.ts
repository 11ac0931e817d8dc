import type { ReplyRoute } from '@app/dist-core/barrier';
import { OnMessage, type Envelope } from '@app/dist-core/kafka';
import { PreparedTransactionParticipant } from '@app/dist-core/twopc';
import { orderFlowMessages, type FundsCommand } from '@app/order-flow-api';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AccountsLedger } from './accounts-ledger.js';
import { parseFundsCommand } from './funds-commands.message.controller.js';

const TWO_PC_REPLY: ReplyRoute = orderFlowMessages.route('payment.2pc.reply');

/**
 * Payment's part of two-phase commit (libs/dist-core/src/twopc). The prepare charges the order
 * (available → spent, as the saga's charge) inside a prepared transaction and votes; commit and
 * rollback arrive on payment.decisions, consumed by a consumer of their own (main.ts).
 *
 * Replies (`payment.2pc.reply`, on payment.replies):
 *   prepare            {outcome: 'SUCCESS'}
 *                      {outcome: 'FAILURE', reason: 'INSUFFICIENT_FUNDS' | 'UNKNOWN_CUSTOMER' | 'REFUSED'}
 *   commit, rollback   {outcome: 'SUCCESS'}
 * A decision naming another customer or amount than the prepare, or a commit of a branch that
 * did not vote yes, is dead-lettered and changes nothing.
 */
@Controller()
export class Funds2pcController {
  constructor(
    private readonly participant: PreparedTransactionParticipant,
    private readonly ledger: AccountsLedger,
  ) {}

  @OnMessage(orderFlowMessages, 'payment.2pc.prepare')
  prepare(@Payload() command: Envelope<FundsCommand>) {
    const funds = parseFundsCommand(command);
    return this.participant.prepare(command, TWO_PC_REPLY, funds, (manager) =>
      this.ledger.charge(manager, funds),
    );
  }

  @OnMessage(orderFlowMessages, 'payment.2pc.commit')
  commit(@Payload() command: Envelope<FundsCommand>) {
    const funds = parseFundsCommand(command);
    return this.participant.commit(command, TWO_PC_REPLY, (recorded) => sameFunds(recorded, funds));
  }

  @OnMessage(orderFlowMessages, 'payment.2pc.rollback')
  rollback(@Payload() command: Envelope<FundsCommand>) {
    const funds = parseFundsCommand(command);
    return this.participant.rollback(command, TWO_PC_REPLY, funds, (recorded) =>
      sameFunds(recorded, funds),
    );
  }
}

function sameFunds(recorded: unknown, funds: FundsCommand): boolean {
  const { customerId, amountCents } = recorded as Partial<FundsCommand>;
  return customerId === funds.customerId && amountCents === funds.amountCents;
}
