import { RpcException } from '@nestjs/microservices';

/**
 * Thrown by a handler whose message can never succeed (its payload fails validation, it
 * refers to something that cannot exist): the consumer dead-letters it at once instead of
 * retrying. A business refusal such as OUT_OF_STOCK is not this: it is a reply.
 *
 * It extends RpcException, and is its own error object, so it reaches the consumer server
 * unchanged through Nest's RPC exception layer, whichever exception filters the app has.
 */
export class InvalidMessageError extends RpcException {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidMessageError';
  }

  override getError(): object {
    return this;
  }
}

/** A message whose type no contract declares on its topic, or that no handler here takes. */
export class UnknownMessageTypeError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnknownMessageTypeError';
  }
}
