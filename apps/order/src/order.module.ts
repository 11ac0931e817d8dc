import { Module } from '@nestjs/common';

/** Orders and their coordination (saga and TCC). */
@Module({})
export class OrderModule {}
