import { Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module.js';

/** Customer accounts: available, frozen and spent cents. */
@Module({ imports: [AccountsModule] })
export class PaymentModule {}
