import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import type { KafkaClient } from './kafka-client.js';

export interface KafkaConsumerServerOptions {
  groupId: string;
  /** Partitions processed at once; order within a partition is always kept. */
  partitionsConsumedConcurrently?: number;
  partitionsPerTopic?: number;
}

/**
 * The Kafka side of each hybrid service, as a Nest custom transport: handlers are declared
 * with `@EventPattern('<topic>')` and receive the raw kafkajs payload.
 *
 * Nest's built-in Kafka transport is not used: its parser turns ids above 2^53 into lossy
 * numbers, and a handler that throws makes kafkajs retry the same message forever.
 */
export class KafkaConsumerServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaConsumerServer.name);
  private consumer?: Consumer;

  constructor(
    private readonly client: KafkaClient,
    private readonly options: KafkaConsumerServerOptions,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  private async start(): Promise<void> {
    const topics = [...this.getHandlers().keys()];
    if (topics.length === 0) return;
    await this.client.ensureTopics(
      topics.map((topic) => ({ topic, numPartitions: this.options.partitionsPerTopic ?? 3 })),
    );
    const consumer = this.client.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachMessage: (payload) => this.dispatch(payload),
    });
    this.log.log(`Consuming ${topics.join(', ')} as ${this.options.groupId}`);
  }

  private async dispatch(payload: EachMessagePayload): Promise<void> {
    const handler = this.getHandlerByPattern(payload.topic);
    if (!handler) return;
    await handler(payload);
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  on(): never {
    throw new Error('KafkaConsumerServer does not expose transport events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}
