export {
  decodeEnvelope,
  encodeEnvelope,
  MalformedEnvelopeError,
  TRACEPARENT_HEADER,
} from './envelope.js';
export type { Envelope } from './envelope.js';
export { adminCredentials, saslOptions } from './credentials.js';
export type { KafkaCredentials } from './credentials.js';
export { KafkaClient } from './kafka-client.js';
export type { KafkaClientOptions } from './kafka-client.js';
export { KafkaConsumerServer } from './kafka-consumer.server.js';
export type { KafkaConsumerServerOptions } from './kafka-consumer.server.js';
export { KafkaMessageContext } from './kafka-message.context.js';
export { OnMessage } from './on-message.decorator.js';
export type { OnMessageOptions } from './on-message.decorator.js';
export type { MessageBatchOptions } from './message-batches.js';
export { InvalidMessageError, UnknownMessageTypeError } from './message-errors.js';
export { defineMessages, message, messagesOn, participant } from './message-catalog.js';
export type {
  MessageCatalog,
  MessageContract,
  MessageContracts,
  PayloadOf,
} from './message-catalog.js';
export { deadLetterTopic, describeError, readDeadLetter } from './dead-letter.js';
export type { DeadLetter, DeadLetterReason } from './dead-letter.js';
export { withLinkedTrace, withPublishSpans } from './kafka-spans.js';
export { ConsumerGroupStatus, consumerAssignmentCollector } from './consumer-group-status.js';
export { consumerGroupOf, logicalTopic, physicalTopic, serviceGroup } from './deployment.js';
