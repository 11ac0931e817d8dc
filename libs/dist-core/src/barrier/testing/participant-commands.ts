import type { Envelope } from '../../kafka/index.js';
import { InvalidMessageError } from '../../kafka/index.js';

/** A participant command as a handler receives it, for the specs of its checks. */
export function commandEnvelope(
  type: string,
  payload: unknown,
  correlationId = '9223372036854775807',
): Envelope<unknown> {
  return {
    id: '1',
    type,
    correlationId,
    causationId: null,
    createdAt: new Date().toISOString(),
    payload,
  };
}

/**
 * The message of the InvalidMessageError `run` throws (what the dead letter will say); any other
 * outcome fails the test that asked.
 */
export function invalidMessageText(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidMessageError) return error.message;
    throw error;
  }
  throw new Error('expected an InvalidMessageError');
}
