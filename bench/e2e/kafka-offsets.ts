import { Kafka, logLevel, type Admin } from 'kafkajs';
import { DEFAULTS } from '@app/dist-core/config';
import { TOPICS } from '@app/order-flow-api';
import { adminCredentials, physicalTopic, saslOptions } from '@app/dist-core/kafka';
import { BENCH_DEPLOYMENT } from './services.js';

/** The order flow's topics: commands to inventory and payment, replies to the order service. */
export const FLOW_TOPICS = Object.values(TOPICS);

/** Σ end offsets of the flow topics: a difference of two readings is the messages produced. */
export class FlowTopicOffsets {
  private readonly admin: Admin;

  constructor() {
    const brokers = (process.env.KAFKA_BROKERS ?? DEFAULTS.KAFKA_BROKERS).split(',');
    this.admin = new Kafka({
      clientId: 'bench',
      brokers,
      // admin: reading the end offsets of every flow topic is no single service's right.
      sasl: saslOptions(adminCredentials()),
      logLevel: logLevel.NOTHING,
    }).admin();
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  async total(): Promise<number> {
    let total = 0;
    for (const topic of FLOW_TOPICS) {
      for (const partition of await this.admin.fetchTopicOffsets(
        physicalTopic(BENCH_DEPLOYMENT, topic),
      )) {
        total += Number(partition.high);
      }
    }
    return total;
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}
