import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { Outbox } from '@app/dist-core/outbox';
import { BarrierParticipant } from '@app/dist-core/tcc';
import { Module } from '@nestjs/common';
import { ProductsController } from './products.controller.js';
import { ProductsService } from './products.service.js';
import { StockCommandsController } from './stock-commands.controller.js';
import { StockLedger } from './stock-ledger.js';

/** Products, their stock, and the stock commands of the order flows. */
@Module({
  controllers: [ProductsController, StockCommandsController],
  providers: [
    StockLedger,
    ProductsService,
    {
      provide: BarrierParticipant,
      inject: [PostgresDatabases, ServiceIds],
      useFactory: (databases: PostgresDatabases, ids: ServiceIds) =>
        new BarrierParticipant(
          databases.get('inventory'),
          'inventory',
          'inventory',
          new Outbox(ids),
        ),
    },
  ],
})
export class ProductsModule {}
