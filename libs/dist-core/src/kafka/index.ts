export {
  decodeEnvelope,
  encodeEnvelope,
  MalformedEnvelopeError,
  TRACEPARENT_HEADER,
} from './envelope.js';
export type { Envelope } from './envelope.js';
export { KafkaClient } from './kafka-client.js';
export type { KafkaClientOptions } from './kafka-client.js';
export { KafkaConsumerServer } from './kafka-consumer.server.js';
export type { KafkaConsumerServerOptions } from './kafka-consumer.server.js';
