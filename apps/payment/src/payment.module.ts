import { Module } from '@nestjs/common';

/** Customer accounts: available, frozen and spent cents. */
@Module({})
export class PaymentModule {}
