// What tests, benchmarks and scripts reach under the contents page: the wire format,
// consumer group names per deployment, dead letters, a handler's Kafka context.
export { decodeEnvelope, encodeEnvelope, TRACEPARENT_HEADER } from '../envelope.js';
export { consumerGroupOf } from '../deployment.js';
export { deadLetterTopic, readDeadLetter, type DeadLetter } from '../dead-letter.js';
export type { KafkaConsumerServerOptions } from '../kafka-consumer.server.js';
export { KafkaMessageContext } from '../kafka-message.context.js';
