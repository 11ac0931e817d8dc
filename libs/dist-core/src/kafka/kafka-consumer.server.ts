import { BadRequestException, Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Consumer, EachBatchPayload, EachMessagePayload, KafkaMessage } from 'kafkajs';
import { isObservable, lastValueFrom } from 'rxjs';
import { defineMessages, type MessageCatalog } from './message-catalog.js';
import { deadLetterMessage, deadLetterTopic, describeError, headerText } from './dead-letter.js';
import {
  decodeEnvelope,
  MalformedEnvelopeError,
  TRACEPARENT_HEADER,
  type Envelope,
} from './envelope.js';
import type { ConsumerGroupStatus } from './consumer-group-status.js';
import type { KafkaClient } from './kafka-client.js';
import { KafkaMessageContext } from './kafka-message.context.js';
import { InvalidMessageError, UnknownMessageTypeError } from './message-errors.js';
import { batchMessages, deadLetters } from '../metrics/catalog.js';
import { failActiveSpan, recordFailure, withConsumeSpan } from './kafka-spans.js';
import {
  consumeInBatches,
  type MessageBatchOptions,
  type MessageRunner,
} from './message-batches.js';

export interface KafkaConsumerServerOptions {
  /** The group's logical name; on the broker it is in the client's deployment. */
  groupId: string;
  /**
   * The contracts of the types this service handles (and, best, of those it sends: their
   * topics are created at start too). Handlers are keyed by message type; this tells the
   * server which topics to subscribe to.
   */
  messages?: MessageCatalog;
  /**
   * Which of the handlers' topics this consumer takes (default: all). A service runs a second
   * consumer, in a group of its own, for topics that must never wait behind the others: a 2PC
   * participant's decisions, which release the row locks a blocked prepare waits for.
   */
  topics?: { only?: readonly string[]; except?: readonly string[] };
  /** Partitions processed at once (default 3). */
  partitionsConsumedConcurrently?: number;
  /**
   * Keys (orders) handled at once within one partition's batch (default 4); messages of one key
   * always run one after another, in offset order.
   */
  keysConsumedConcurrently?: number;
  partitionsPerTopic?: number;
  /**
   * How often consumed offsets are committed, at most (default 1000 ms), from the batches that
   * arrive: kafkajs would otherwise commit after every batch, one more broker write per message
   * under light load. A crash, a stop or a rebalance redelivers up to this much (and, after the
   * last batch of a quiet spell, what it finished), which the inbox makes harmless.
   */
  commitIntervalMs?: number;
  /** Handler runs on one message before it is dead-lettered (default 5). */
  maxAttempts?: number;
  /** Wait before the 2nd run; doubles each time, capped at 2 s (default 100 ms). */
  retryBackoffMs?: number;
  /** Tracks group membership for the health check (one status may track several consumers). */
  status?: ConsumerGroupStatus;
  /**
   * Several messages of a partition's batch in one local transaction (message-batches.ts):
   * only messages whose handler is marked `@OnMessage(…, { batchable: true })`. Default: off.
   */
  batch?: MessageBatchOptions;
}

/**
 * The Kafka side of each hybrid service, as a Nest custom transport. Handlers are declared by
 * message type, `@EventPattern('inventory.reserve')`, and receive the decoded envelope and a
 * `KafkaMessageContext`.
 *
 * Nest's built-in Kafka transport is not used: its parser turns ids above 2^53 into lossy
 * numbers, and a handler that throws makes kafkajs retry the same message forever (nestjs/nest
 * #10972, #14664). Here a message that cannot be decoded, has no handler, fails validation
 * (InvalidMessageError) or fails `maxAttempts` times goes to `<topic>.dlq` with the error, and
 * the partition moves on. Only a failure to write the dead letter itself stops the partition:
 * moving on then would lose the message.
 */
export class KafkaConsumerServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaConsumerServer.name);
  private readonly messages: MessageCatalog;
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private consumer?: Consumer;
  private closing = false;

  constructor(
    private readonly client: KafkaClient,
    private readonly options: KafkaConsumerServerOptions,
  ) {
    super();
    this.messages = options.messages ?? defineMessages({});
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  /** The topics the handlers' types travel on. A handler for an undeclared type stops start-up. */
  private subscribedTopics(): string[] {
    const topics = new Set<string>();
    for (const [type, handler] of this.getHandlers()) {
      const topic = this.messages.topicOf(type);
      if (topic === undefined) {
        throw new Error(
          `@EventPattern('${type}'): no message contract declares this type` +
            (this.options.messages ? '' : ' (pass the contracts as `messages`)'),
        );
      }
      if (handler.next) throw new Error(`@EventPattern('${type}'): more than one handler`);
      const { only, except } = this.options.topics ?? {};
      if ((only && !only.includes(topic)) || except?.includes(topic)) continue;
      topics.add(topic);
    }
    return [...topics];
  }

  private async start(): Promise<void> {
    this.closing = false;
    const topics = this.subscribedTopics();
    if (topics.length === 0) {
      this.options.status?.markIdle(this.options.groupId);
      return;
    }
    // Every topic is created explicitly with its dead-letter topic before anyone subscribes
    // or publishes; the producer never auto-creates one with broker defaults.
    const numPartitions = this.options.partitionsPerTopic ?? 3;
    const all = new Set([...this.messages.topics(), ...topics, ...topics.map(deadLetterTopic)]);
    await this.client.ensureTopics([...all].map((topic) => ({ topic, numPartitions })));
    await this.runConsumer(topics);
    this.log.log(`Consuming ${topics.join(', ')} as ${this.client.group(this.options.groupId)}`);
  }

  private async runConsumer(topics: string[]): Promise<void> {
    // The one place a consumer meets the broker: its group and topics in the deployment.
    const consumer = this.client.kafka.consumer({
      groupId: this.client.group(this.options.groupId),
      // Join and fail over in about a second (the broker's initial rebalance delay is 0).
      sessionTimeout: 6000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    this.options.status?.watch(
      consumer,
      (topic) => this.client.logicalTopic(topic),
      this.options.groupId,
    );
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.closing) return;
      this.log.error(`Consumer stopped by ${describeError(payload.error)}: starting a new one`);
      void this.restartConsumer(topics);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: topics.map((topic) => this.client.topic(topic)),
      fromBeginning: true,
    });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      // kafkajs's own auto-commit commits after every batch whatever the interval says
      // (runner.js), and under light load each message is its own batch: one OFFSET_COMMIT, a
      // write to __consumer_offsets, per message. So consumeBatch commits, at most once per
      // interval; what is finished but not yet committed when a consumer stops, crashes or loses
      // its partitions is delivered again, and the inbox drops it.
      autoCommit: false,
      autoCommitInterval: this.options.commitIntervalMs ?? 1000,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.consumeBatch(payload),
    });
  }

  /**
   * kafkajs restarts a crashed consumer only when the error was retriable. A dead letter that
   * cannot be written while the broker is down fails with a non-retriable connection error, and
   * the consumer would stay stopped for the life of the process: every reply and command it
   * should handle left in Kafka. So a new consumer takes over, retried until the broker answers;
   * the uncommitted message is redelivered to it.
   */
  private async restartConsumer(topics: string[]): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      await sleep(Math.min(500 * attempt, 5000));
      if (this.closing) return;
      await this.consumer?.disconnect().catch(() => undefined);
      try {
        await this.runConsumer(topics);
        if (this.closing) await this.consumer?.disconnect();
        else this.log.log(`Consumer of ${this.client.group(this.options.groupId)} running again`);
        return;
      } catch (error) {
        this.log.warn(
          `Restarting the consumer failed (attempt ${attempt}): ${describeError(error)}`,
        );
      }
    }
  }

  /**
   * One partition's batch: through the batch layer when it has several messages and batching is
   * on (message-batches.ts), else one transaction per message (`consumeByKeys`). The committed
   * offset only passes a prefix of finished messages; one finished after an unfinished one is
   * redelivered, and the inbox makes that harmless.
   */
  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset, commitOffsetsIfNecessary } = payload;
    const finished = new Set<string>();
    const done = (message: KafkaMessage) => finished.add(message.offset);
    const batchingOn = (this.options.batch?.maxMessages ?? 1) > 1;
    const batching = batchingOn && batch.messages.length > 1;
    let failure: { error: unknown } | undefined;
    try {
      if (batching) {
        const runner = this.messageRunner(payload);
        const options = { ...this.options.batch, group: this.options.groupId };
        await consumeInBatches(batch.messages, runner, options, done);
      } else {
        await this.consumeByKeys(payload, done);
        // A batch of one, in the batch histogram's terms: what batching came to at this load.
        if (batchingOn) batchMessages.observe({ group: this.options.groupId }, finished.size);
      }
    } catch (error) {
      failure = { error };
    }
    for (const message of batch.messages) {
      if (!finished.has(message.offset)) break;
      resolveOffset(message.offset);
    }
    await commitOffsetsIfNecessary();
    await heartbeat();
    if (failure) throw failure.error;
  }

  /**
   * The single-order path. kafkajs would run a batch one message at a time, so a partition
   * carries one order at a time, however many orders wait in it. Here messages of different
   * keys (orders) run at once, and those of one key one after another in offset order:
   * per-order order is kept, which is all the flows rely on.
   */
  private async consumeByKeys(
    payload: EachBatchPayload,
    finished: (message: KafkaMessage) => void,
  ): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const lanes = new Map<string, KafkaMessage[]>();
    for (const message of batch.messages) {
      const key = message.key?.toString('latin1') ?? '';
      const lane = lanes.get(key);
      if (lane) lane.push(message);
      else lanes.set(key, [message]);
    }
    const queue = [...lanes.values()];
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        for (const message of lane) {
          if (failure || !isRunning() || isStale()) return;
          try {
            await this.consume(this.messagePayload(payload, message));
            finished(message);
          } catch (error) {
            failure ??= { error };
            return;
          }
        }
      }
    };
    const workers = Math.min(queue.length, this.options.keysConsumedConcurrently ?? 4);
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure) throw failure.error;
  }

  /** The batch layer's two ways of running one message of this partition. */
  private messageRunner(payload: EachBatchPayload): MessageRunner {
    return {
      once: (message) => {
        const routed = this.route(this.messagePayload(payload, message));
        if (!routed.handler || routed.handler.extras?.batchable !== true) return null;
        const { handler, envelope, context, consumed } = routed;
        return () => withConsumeSpan(consumed, () => this.invoke(handler, envelope, context));
      },
      alone: (message) => this.consume(this.messagePayload(payload, message)),
      running: () => payload.isRunning() && !payload.isStale(),
    };
  }

  private messagePayload(payload: EachBatchPayload, message: KafkaMessage): EachMessagePayload {
    const { batch, heartbeat, pause } = payload;
    const topic = this.client.logicalTopic(batch.topic);
    return { topic, partition: batch.partition, message, heartbeat, pause };
  }

  /**
   * Resolving = done with this offset (handled or dead-lettered); rejecting = redeliver.
   * `topic` is the contract's name, as the handlers and the catalog know it.
   */
  private async consume(payload: EachMessagePayload): Promise<void> {
    const routed = this.route(payload);
    if (!routed.handler) return this.deadLetter(payload, routed.error, 0);
    const { handler, envelope, context, consumed } = routed;
    return withConsumeSpan(consumed, () => this.handle(payload, handler, envelope, context));
  }

  /** The message's handler and what it is called with, or why it has none (a dead letter). */
  private route(payload: EachMessagePayload): Routed {
    const { topic, partition, message } = payload;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(message.value);
    } catch (error) {
      return { error };
    }
    const declaredTopic = this.messages.topicOf(envelope.type);
    const handler = declaredTopic === topic ? this.getHandlerByPattern(envelope.type) : null;
    if (!handler) {
      const reason =
        declaredTopic === undefined
          ? `message type ${envelope.type} is not declared`
          : declaredTopic !== topic
            ? `message type ${envelope.type} belongs on ${declaredTopic}, not ${topic}`
            : `no handler for message type ${envelope.type} in ${this.options.groupId}`;
      return { error: new UnknownMessageTypeError(reason) };
    }

    const headers = message.headers ?? {};
    const context = new KafkaMessageContext(topic, partition, message.offset, headers, 1);
    // The handler continues the sender's trace, in a span that what it enqueues carries.
    const traceparent = headerText(headers, TRACEPARENT_HEADER);
    // The topic as the producer's span named it (the outbox's row), the group as the broker does.
    const groupId = this.client.group(this.options.groupId);
    const consumed = { topic, partition, offset: message.offset, groupId, envelope, traceparent };
    return { handler, envelope, context, consumed };
  }

  /** Runs the handler until it succeeds, fails for good (dead letter) or the server closes. */
  private async handle(
    payload: EachMessagePayload,
    handler: MessageHandler,
    envelope: Envelope,
    context: KafkaMessageContext,
  ): Promise<void> {
    for (;;) {
      try {
        await this.invoke(handler, envelope, context);
        this.log.debug(`${envelope.type} ${envelope.id} handled`);
        return;
      } catch (error) {
        recordFailure(error);
        if (isInvalidMessage(error) || context.attempt >= this.maxAttempts) {
          return this.deadLetter(payload, error, context.attempt);
        }
        // Shutting down: leave the offset uncommitted; the next owner of the partition
        // redelivers, and the inbox makes a second run harmless.
        if (this.closing) throw error;
        this.log.warn(
          `${envelope.type} ${envelope.id} failed (attempt ${context.attempt}/${this.maxAttempts}): ${describeError(error)}`,
        );
        await sleep(Math.min(this.retryBackoffMs * 2 ** (context.attempt - 1), 2000));
        // kafkajs heartbeats only between messages: a long retry must keep the membership.
        await payload.heartbeat();
        context.attempt += 1;
      }
    }
  }

  /**
   * Runs the Nest handler. A handler's error comes back either as a rejection (when an app
   * filter rethrows it) or as an erroring Observable (Nest's default RPC filter): both throw.
   */
  private async invoke(
    handler: MessageHandler,
    envelope: Envelope,
    context: KafkaMessageContext,
  ): Promise<void> {
    const result: unknown = await handler(envelope, context);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }

  private async deadLetter(
    { topic, partition, message }: EachMessagePayload,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const dlq = deadLetterTopic(topic);
    await this.client.producer.send({
      topic: dlq,
      acks: -1,
      messages: [
        // The headers name the broker's topic and group: where an operator finds and replays it.
        deadLetterMessage({
          topic: this.client.topic(topic),
          partition,
          message,
          error,
          attempts,
          consumerGroup: this.client.group(this.options.groupId),
        }),
      ],
    });
    deadLetters.inc({ topic, reason: deadLetterReason(error) });
    failActiveSpan(`dead-lettered to ${dlq}`);
    this.log.error(
      `${topic}[${partition}]@${message.offset} → ${dlq} after ${attempts} attempt(s): ${describeError(error)}`,
    );
  }

  async close(): Promise<void> {
    this.closing = true;
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

type Routed =
  | {
      handler: MessageHandler;
      envelope: Envelope;
      context: KafkaMessageContext;
      consumed: Parameters<typeof withConsumeSpan>[0];
      error?: undefined;
    }
  | { handler?: undefined; error: unknown };

/** Failures no retry can fix: the handler said so, or a validation pipe rejected the payload. */
function isInvalidMessage(error: unknown): boolean {
  return error instanceof InvalidMessageError || error instanceof BadRequestException;
}

/** The metric's `reason`: a few fixed values, never the error's text (unbounded labels). */
function deadLetterReason(error: unknown): string {
  if (error instanceof MalformedEnvelopeError) return 'malformed';
  if (error instanceof UnknownMessageTypeError) return 'unknown_type';
  if (isInvalidMessage(error)) return 'invalid';
  return 'retries_exhausted';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
