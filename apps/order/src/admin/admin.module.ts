import { Module } from '@nestjs/common';
import { FlowsModule } from '../flows/flows.module.js';
import { ShardsModule } from '../shards/shards.module.js';
import { ParkedSagasController } from './parked-sagas.controller.js';

@Module({ imports: [ShardsModule, FlowsModule], controllers: [ParkedSagasController] })
export class AdminModule {}
