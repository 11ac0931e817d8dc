import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { barrierParticipantProvider } from '@app/dist-core/barrier';
import { Module } from '@nestjs/common';
import { ProductsController } from './products.http.controller.js';
import { ProductsService } from './products.service.js';
import { StockCommandsController } from './stock-commands.message.controller.js';
import { StockLedger } from './stock-ledger.js';

/** Products, their stock, and the stock commands of the order flows. */
@Module({
  controllers: [ProductsController, StockCommandsController],
  providers: [
    StockLedger,
    ProductsService,
    barrierParticipantProvider('inventory', PostgresDatabases, ServiceIds),
  ],
})
export class ProductsModule {}
