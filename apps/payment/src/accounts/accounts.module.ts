import { barrierParticipantProvider } from '@app/dist-core/barrier';
import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { preparedTransactionParticipantProvider } from '@app/dist-core/twopc';
import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.http.controller.js';
import { AccountsLedger } from './accounts-ledger.js';
import { Funds2pcController } from './funds-2pc.message.controller.js';
import { FundsCommandsController } from './funds-commands.message.controller.js';

/** Accounts over REST, and the payment participant of the saga, TCC and 2PC order flows. */
@Module({
  controllers: [AccountsController, FundsCommandsController, Funds2pcController],
  providers: [
    AccountsLedger,
    barrierParticipantProvider('payment', PostgresDatabases, ServiceIds),
    preparedTransactionParticipantProvider('payment', PostgresDatabases, ServiceIds),
  ],
})
export class AccountsModule {}
