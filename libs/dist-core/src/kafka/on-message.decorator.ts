import { EventPattern } from '@nestjs/microservices';
import type { MessageCatalog, MessageContracts, PayloadOf } from './message-catalog.js';
import type { Envelope } from './envelope.js';
import type { KafkaMessageContext } from './kafka-message.context.js';

/**
 * `@EventPattern(type)` checked against the contracts: a type the catalog does not declare
 * fails the build, and the handler's envelope is typed with the declared payload.
 *
 *   @OnMessage(inventoryMessages, 'inventory.reserve')
 *   reserve(@Payload() envelope: Envelope<ReserveStock>, @Ctx() context: KafkaMessageContext) {…}
 */
export function OnMessage<M extends MessageContracts, T extends keyof M & string>(
  _catalog: MessageCatalog<M>,
  type: T,
) {
  const pattern = (EventPattern as (pattern: string) => MethodDecorator)(type);
  return <H extends (envelope: Envelope<PayloadOf<M, T>>, context: KafkaMessageContext) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    pattern(target, key, descriptor);
  };
}
