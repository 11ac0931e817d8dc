import { Module } from '@nestjs/common';
import { OrderShards } from './order-shards.js';

@Module({ providers: [OrderShards], exports: [OrderShards] })
export class ShardsModule {}
