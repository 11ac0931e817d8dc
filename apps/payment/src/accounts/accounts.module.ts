import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.controller.js';
import { AccountsLedger } from './accounts-ledger.js';
import { FundsCommandsController } from './funds-commands.controller.js';

/** Accounts over REST, and the payment participant of the saga and TCC order flows. */
@Module({
  controllers: [AccountsController, FundsCommandsController],
  providers: [AccountsLedger],
})
export class AccountsModule {}
