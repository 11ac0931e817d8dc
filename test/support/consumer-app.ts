import type { INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpErrorFilter } from '@app/dist-core/bootstrap';
import { KafkaConsumerServer, type Envelope, type KafkaClient } from '@app/dist-core/kafka';
import {
  encodeEnvelope,
  TRACEPARENT_HEADER,
  type KafkaConsumerServerOptions,
} from '@app/dist-core/kafka/testing';
import { startTracing } from '@app/dist-core/observability';
import { fixedWorkerId, SnowflakeGenerator } from '@app/dist-core/snowflake';

/**
 * A Nest microservice whose only transport is the KafkaConsumerServer under test, with the
 * global exception filter every service installs (bootstrapService shares it with the
 * microservice through inheritAppConfig) and the tracing SDK every service starts: without it
 * no span is ever active, and what a handler enqueues would start a new trace.
 */
export async function startConsumerApp(
  module: Type<unknown>,
  kafka: KafkaClient,
  options: KafkaConsumerServerOptions,
): Promise<INestMicroservice> {
  startTracing('messaging-test');
  const app = await NestFactory.createMicroservice(module, {
    strategy: new KafkaConsumerServer(kafka, options),
    logger: ['error', 'warn'],
  });
  app.useGlobalFilters(new HttpErrorFilter());
  await app.listen();
  return app;
}

const ids = new SnowflakeGenerator(fixedWorkerId(12));

export function testEnvelope<P extends object>(
  type: string,
  payload: P,
  correlationId = '4242',
): Envelope<P> {
  return {
    id: ids.nextId(),
    type,
    correlationId,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload,
  };
}

/** Produces envelopes (or raw values) straight to a topic, as a misbehaving producer could. */
export async function produce(
  kafka: KafkaClient,
  topic: string,
  values: (Envelope | string)[],
  headers: Record<string, string> = {},
): Promise<void> {
  await kafka.producer.send({
    topic,
    acks: -1,
    messages: values.map((value) =>
      typeof value === 'string'
        ? { key: '4242', value, headers }
        : { key: value.correlationId, value: encodeEnvelope(value), headers },
    ),
  });
}

export const SAMPLE_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
export { TRACEPARENT_HEADER };
