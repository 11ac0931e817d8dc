import { PostgresDatabases, ServiceIds } from '@app/dist-core/bootstrap';
import { barrierParticipantProvider } from '@app/dist-core/barrier';
import { preparedTransactionParticipantProvider } from '@app/dist-core/twopc';
import { Module } from '@nestjs/common';
import { ProductsController } from './products.http.controller.js';
import { ProductsService } from './products.service.js';
import { Stock2pcController } from './stock-2pc.message.controller.js';
import { StockCommandsController } from './stock-commands.message.controller.js';
import { StockLedger } from './stock-ledger.js';

/** Products, their stock, and the stock commands of the order flows (saga, TCC, 2PC). */
@Module({
  controllers: [ProductsController, StockCommandsController, Stock2pcController],
  providers: [
    StockLedger,
    ProductsService,
    barrierParticipantProvider('inventory', PostgresDatabases, ServiceIds),
    preparedTransactionParticipantProvider('inventory', PostgresDatabases, ServiceIds),
  ],
})
export class ProductsModule {}
