// The contents page: the envelope every message travels in, the typed message catalog both
// sides import, the producer (KafkaClient) and the consumer (KafkaConsumerServer, whose handlers
// are `@OnMessage` methods; an InvalidMessageError sends a message to its dead-letter topic).
// Wire format, consumer group names and dead letters: ./testing.
export type { Envelope } from './envelope.js';
export {
  defineMessages,
  message,
  messagesOn,
  participant,
  type MessageCatalog,
  type MessageContract,
  type PayloadOf,
} from './message-catalog.js';
export { KafkaClient } from './kafka-client.js';
export { KafkaConsumerServer } from './kafka-consumer.server.js';
export { OnMessage } from './on-message.decorator.js';
export { InvalidMessageError } from './message-errors.js';
// Kept here for bench/: the credentials of a client of the
// secured broker, and a topic's name under a deployment's prefix.
export { adminCredentials, saslOptions } from './credentials.js';
export { physicalTopic } from './deployment.js';
