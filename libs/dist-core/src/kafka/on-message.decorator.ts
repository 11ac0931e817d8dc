import { EventPattern } from '@nestjs/microservices';
import type { MessageCatalog, MessageContracts, PayloadOf } from './message-catalog.js';
import type { Envelope } from './envelope.js';
import type { KafkaMessageContext } from './kafka-message.context.js';

export interface OnMessageOptions {
  /**
   * The handler may run inside a batch's transaction (message-batches.ts, README in batch/):
   * it opens its transactions only through `inTransaction` (`handleOnce`, `BarrierParticipant`),
   * one at a time, and writes nothing outside them. A handler with a connection of its own (a
   * 2PC prepare) must not: it could wait for a row lock its own batch holds.
   */
  batchable?: boolean;
}

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
  options: OnMessageOptions = {},
) {
  const pattern = (EventPattern as (pattern: string, extras: object) => MethodDecorator)(type, {
    batchable: options.batchable === true,
  });
  return <H extends (envelope: Envelope<PayloadOf<M, T>>, context: KafkaMessageContext) => unknown>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    pattern(target, key, descriptor);
  };
}
