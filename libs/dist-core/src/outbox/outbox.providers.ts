import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { KafkaClient } from '../kafka/index.js';
import {
  AfterCommitPublisher,
  type AfterCommitPublisherOptions,
} from './after-commit-publisher.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';

type NamedDataSource = { name: string; dataSource: DataSource };

/**
 * One relay per database of a service (the order service has one per shard), started with
 * the application and stopped before its Kafka producer and pools close. Register it as a
 * provider: Nest calls the two lifecycle hooks.
 */
export class OutboxRelays {
  readonly relays: OutboxRelay[];

  constructor(
    databases: NamedDataSource[],
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

  /**
   * Before shutdown, while the producer and the pools are still open for the last batch.
   * Rows a handler enqueues after this wait in the table for the next relay to run.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.stop()));
  }
}

/**
 * The Nest provider: `outboxRelaysProvider(PostgresDatabases)` among a service's providers
 * runs a relay on each of its databases with the shared producer. (The databases' token is a
 * parameter so this folder does not depend on bootstrap/.)
 */
export function outboxRelaysProvider(
  databases: InjectionToken<{ all(): NamedDataSource[] }>,
  options: Omit<OutboxRelayOptions, 'name'> = {},
): FactoryProvider<OutboxRelays> {
  return {
    provide: OutboxRelays,
    inject: [databases, KafkaClient],
    useFactory: (list: { all(): NamedDataSource[] }, kafka: KafkaClient) =>
      new OutboxRelays(list.all(), kafka.producer, options),
  };
}

/**
 * The Nest provider of the outbox's fast path: `afterCommitPublisherProvider(PostgresDatabases)`
 * attaches one `AfterCommitPublisher` to every database of the service, so each transaction's
 * messages are published as it commits; the relays above remain the guarantee.
 */
export function afterCommitPublisherProvider(
  databases: InjectionToken<{ all(): NamedDataSource[] }>,
  options: AfterCommitPublisherOptions = {},
): FactoryProvider<AfterCommitPublisher> {
  return {
    provide: AfterCommitPublisher,
    inject: [databases, KafkaClient],
    useFactory: (list: { all(): NamedDataSource[] }, kafka: KafkaClient) => {
      const publisher = new AfterCommitPublisher(kafka.producer, options);
      for (const { dataSource } of list.all()) publisher.attach(dataSource);
      return publisher;
    },
  };
}
