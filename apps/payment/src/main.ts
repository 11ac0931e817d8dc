import { bootstrapService } from '@app/dist-core/bootstrap';
import { orderFlowMessages, TOPICS } from '@app/order-flow-api';
import { messagesOn } from '@app/dist-core/kafka';
import { tccBarrierMigrations, tccBarrierRetention } from '@app/dist-core/tcc';
import { twoPcParticipantMigrations, twoPcParticipantRetention } from '@app/dist-core/twopc';
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
      migrations: [...tccBarrierMigrations, ...twoPcParticipantMigrations, ...accountsMigrations],
      retention: [tccBarrierRetention, ...twoPcParticipantRetention],
    },
  ],
  // Its commands, decisions and replies only: its Kafka principal may not see the other topics.
  messages: messagesOn(orderFlowMessages, [
    TOPICS.paymentCommands,
    TOPICS.paymentDecisions,
    TOPICS.paymentReplies,
  ]),
  // 2PC's commit and rollback free the row locks a prepare may be waiting for: never queued
  // behind that prepare on the commands topic's consumer.
  separateConsumers: [{ consumer: 'decisions', topics: [TOPICS.paymentDecisions] }],
});
