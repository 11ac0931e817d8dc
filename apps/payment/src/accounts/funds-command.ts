import type { FundsCommand } from '@app/order-flow-api';
import { commandOrderId } from '@app/dist-core/barrier';
import { InvalidMessageError, type Envelope } from '@app/dist-core/kafka';
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE } from './account.js';

/**
 * A payment command's payload, checked: it can never succeed otherwise, so the caller's
 * InvalidMessageError sends it to the dead-letter topic instead of retrying it. Fields beyond
 * these are allowed (the TCC coordinator adds `gid` and `branch`).
 */
export function parseFundsCommand(envelope: Envelope): FundsCommand {
  const payload = envelope.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid(envelope, 'payload must be an object');
  }
  const orderId = commandOrderId(envelope);
  const { customerId, amountCents } = payload as Record<string, unknown>;
  if (typeof customerId !== 'string' || !CUSTOMER_ID_PATTERN.test(customerId)) {
    throw invalid(envelope, `customerId must be ${CUSTOMER_ID_RULE}`);
  }
  // An order's total is positive (every price is): a charge of 0 is no order's.
  if (typeof amountCents !== 'number' || !Number.isSafeInteger(amountCents) || amountCents < 1) {
    throw invalid(envelope, 'amountCents must be an integer from 1 to 2^53 - 1');
  }
  return { orderId, customerId, amountCents };
}

function invalid(envelope: Envelope, reason: string): InvalidMessageError {
  return new InvalidMessageError(`${envelope.type} ${envelope.id}: ${reason}`);
}
