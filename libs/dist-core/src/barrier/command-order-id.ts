import { InvalidMessageError, type Envelope } from '../kafka/index.js';

const DECIMAL_ID = /^[1-9][0-9]{0,18}$/;
const MAX_ID = 0x7fffffffffffffffn;

/**
 * The order a participant's command is about: its payload's `orderId`, which must be the
 * envelope's correlationId. The barrier is keyed by the correlationId and the participant's
 * own rows (reservations, payments) by the order id; a command where the two differ could
 * settle one order's barrier with another's change. Such a command can never succeed, so it
 * is an InvalidMessageError: dead-lettered, not retried.
 */
export function commandOrderId(command: Envelope<unknown>): string {
  const { orderId } = (command.payload ?? {}) as { orderId?: unknown };
  if (typeof orderId !== 'string' || !DECIMAL_ID.test(orderId) || BigInt(orderId) > MAX_ID) {
    throw invalid(command, 'orderId must be a positive 64-bit decimal string');
  }
  if (orderId !== command.correlationId) {
    throw invalid(command, `orderId ${orderId} is not the correlationId ${command.correlationId}`);
  }
  return orderId;
}

function invalid(command: Envelope<unknown>, reason: string): InvalidMessageError {
  return new InvalidMessageError(`${command.type} ${command.id}: ${reason}`);
}
