import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderFlowMessages, TOPICS } from '@app/order-flow-api';
import { messagesOn } from '@app/dist-core/kafka';
import { tccBarrierMigrations, tccBarrierRetention } from '@app/dist-core/tcc';
import { accountsMigrations } from './accounts/accounts.migrations.js';
import { paymentConfig } from './config.js';
import { PaymentModule } from './payment.module.js';

await bootstrapService({
  name: 'payment',
  description: 'Customer accounts: freezes, captures and releases funds for orders',
  module: PaymentModule,
  config: paymentConfig,
  httpPort: (config) => config.PAYMENT_PORT,
  postgres: (config) => [
    {
      name: 'payment',
      url: config.PAYMENT_DB_URL,
      migrations: [...tccBarrierMigrations, ...accountsMigrations],
      retention: [tccBarrierRetention],
    },
  ],
  // Its commands and its replies only: its Kafka principal may not see the other topics.
  messages: messagesOn(orderFlowMessages, [TOPICS.paymentCommands, TOPICS.paymentReplies]),
});
