import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { TRACEPARENT_HEADER, type Envelope } from './envelope.js';
import {
  formatTraceparent,
  parseTraceparent,
  toSpanContext,
} from '../observability/trace-context.js';
import { withLogFields } from '../observability/logger.js';
import { tracer } from '../observability/tracer.js';

// OpenTelemetry's messaging conventions are still "incubating": their names are copied here,
// as the semantic-conventions package advises, rather than imported from a moving entry point.
const MESSAGING_SYSTEM = 'messaging.system';
const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const MESSAGING_OPERATION_NAME = 'messaging.operation.name';
const MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
const MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
const MESSAGING_MESSAGE_ID = 'messaging.message.id';
const MESSAGING_MESSAGE_CONVERSATION_ID = 'messaging.message.conversation_id';
const MESSAGING_KAFKA_MESSAGE_KEY = 'messaging.kafka.message.key';
const MESSAGING_KAFKA_OFFSET = 'messaging.kafka.offset';
/** Not a convention: the envelope's message type (`inventory.reserve`). */
export const MESSAGE_TYPE_ATTRIBUTE = 'app.message.type';

/** A context whose parent span is the traceparent (no parent if it is missing or malformed). */
function contextOf(traceparent: string | undefined) {
  const parent = parseTraceparent(traceparent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, toSpanContext(parent)) : ROOT_CONTEXT;
}

/** An outbox row on its way to Kafka; `headers.traceparent` is what the enqueuer stored. */
export interface PublishedRow {
  /** The envelope's id (the outbox row's id). */
  id: string;
  topic: string;
  /** The correlation (order) id. */
  key: string;
  headers: Record<string, string>;
}

/**
 * A PRODUCER span per message, around the produce call that sends them. Each span's parent is
 * the traceparent stored with the row — the request or handler that enqueued it, which may
 * have committed seconds ago in another process — and the message leaves with the producer
 * span's own traceparent, so its consumer's span is a child of this one. The rows' headers are
 * rewritten in place, before `send` builds the messages from them.
 */
export async function withPublishSpans<T>(
  rows: PublishedRow[],
  send: () => Promise<T>,
): Promise<T> {
  const spans = rows.map((row) => {
    const span = tracer().startSpan(
      `send ${row.topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          ...messagingAttributes('send', row.topic),
          [MESSAGING_MESSAGE_ID]: row.id,
          [MESSAGING_MESSAGE_CONVERSATION_ID]: row.key,
          [MESSAGING_KAFKA_MESSAGE_KEY]: row.key,
        },
      },
      contextOf(row.headers[TRACEPARENT_HEADER]),
    );
    const { traceId, spanId, traceFlags } = span.spanContext();
    // Without an SDK the span is the stored parent itself (non-recording); the header stays.
    if (span.isRecording()) {
      row.headers = {
        ...row.headers,
        [TRACEPARENT_HEADER]: formatTraceparent({
          traceId,
          spanId,
          flags: traceFlags.toString(16).padStart(2, '0'),
        }),
      };
    }
    return span;
  });
  try {
    return await send();
  } catch (error) {
    for (const span of spans) fail(span, error);
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
  envelope: Envelope;
  traceparent: string | undefined;
}

/**
 * A CONSUMER span around the handling of one message (all its attempts), a child of the
 * producer span whose traceparent the message carries: the handler continues the sender's
 * trace, and what it enqueues carries this span. Every log line inside has the message's
 * correlation id as `orderId` (the envelope's correlation id is the order id).
 */
export function withConsumeSpan<T>(message: ConsumedMessage, handle: () => Promise<T>): Promise<T> {
  const { topic, partition, offset, groupId, envelope } = message;
  const parent = contextOf(message.traceparent);
  const span = tracer().startSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messagingAttributes('process', topic),
        [MESSAGING_DESTINATION_PARTITION_ID]: String(partition),
        [MESSAGING_KAFKA_OFFSET]: Number(offset),
        [MESSAGING_CONSUMER_GROUP_NAME]: groupId,
        [MESSAGING_MESSAGE_ID]: envelope.id,
        [MESSAGING_MESSAGE_CONVERSATION_ID]: envelope.correlationId,
        [MESSAGING_KAFKA_MESSAGE_KEY]: envelope.correlationId,
        [MESSAGE_TYPE_ATTRIBUTE]: envelope.type,
      },
    },
    parent,
  );
  const active = withLogFields({ orderId: envelope.correlationId }, trace.setSpan(parent, span));
  return context.with(active, async () => {
    try {
      return await handle();
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` as the root of a new trace, linked to the trace `traceparent` started: for work
 * that is not a reply to anything — a recovery loop driving a saga whose step timed out, an
 * operator resuming a parked one — but is about something that began elsewhere. A link, not
 * a parent: the original trace ended long ago, and a child would stretch it over minutes.
 * `linkTo` may be called from inside, once the work has read the trace it belongs to.
 */
export function withLinkedTrace<T>(
  name: string,
  fields: { orderId: string },
  work: (linkTo: (traceparent: string | null | undefined) => void) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, {
    root: true,
    attributes: { [MESSAGING_MESSAGE_CONVERSATION_ID]: fields.orderId },
  });
  const linkTo = (traceparent: string | null | undefined) => {
    const linked = parseTraceparent(traceparent ?? undefined);
    if (linked) span.addLink({ context: toSpanContext(linked) });
  };
  const active = withLogFields(fields, trace.setSpan(ROOT_CONTEXT, span));
  return context.with(active, async () => {
    try {
      return await work(linkTo);
    } catch (error) {
      fail(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** A handler attempt failed: recorded on the active span as an event; the span goes on. */
export function recordFailure(error: unknown): void {
  trace.getActiveSpan()?.recordException(asException(error));
}

/** The active span's work failed for good (e.g. the message was dead-lettered). */
export function failActiveSpan(reason: string): void {
  trace.getActiveSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: reason });
}

function fail(span: Span, error: unknown): void {
  const exception = asException(error);
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
}

function asException(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function messagingAttributes(operation: 'send' | 'process', topic: string): Attributes {
  return {
    [MESSAGING_SYSTEM]: 'kafka',
    [MESSAGING_OPERATION_TYPE]: operation,
    [MESSAGING_OPERATION_NAME]: operation,
    [MESSAGING_DESTINATION_NAME]: topic,
  };
}
