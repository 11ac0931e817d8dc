import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';

/**
 * One relay per database of a service (the order service has one per shard), started with
 * the application and stopped before its Kafka producer and pools close. Register it as a
 * provider: Nest calls the two lifecycle hooks.
 */
export class OutboxRelays {
  readonly relays: OutboxRelay[];

  constructor(
    databases: { name: string; dataSource: DataSource }[],
    producer: Pick<Producer, 'sendBatch'>,
    options: Omit<OutboxRelayOptions, 'name'> = {},
  ) {
    this.relays = databases.map(
      ({ name, dataSource }) => new OutboxRelay(dataSource, producer, { ...options, name }),
    );
  }

  onApplicationBootstrap(): void {
    for (const relay of this.relays) relay.start();
  }

  /** Before shutdown, so the producer and the pools are still open for the last batch. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.stop()));
  }
}
