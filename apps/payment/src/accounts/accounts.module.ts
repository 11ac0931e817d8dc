import { barrierParticipantProvider } from '@app/dist-core/barrier';
import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.http.controller.js';
import { AccountsLedger } from './accounts-ledger.js';
import { FundsCommandsController } from './funds-commands.message.controller.js';

/** Accounts over REST, and the payment participant of the saga and TCC order flows. */
@Module({
  controllers: [AccountsController, FundsCommandsController],
  providers: [AccountsLedger, barrierParticipantProvider('payment', PostgresDatabases, ServiceIds)],
})
export class AccountsModule {}
