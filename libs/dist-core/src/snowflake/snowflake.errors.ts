// Faults, not business outcomes: each one means "no id was issued" and says why.

/** The clock stepped back further than the generator waits out; nothing is issued until it catches up. */
export class ClockMovedBackwardsError extends Error {
  override readonly name = 'ClockMovedBackwardsError';
  constructor(
    /** Timestamp (Unix ms) of the last id issued. */
    readonly lastTimestampMs: number,
    /** What the clock said. */
    readonly nowMs: number,
  ) {
    super(
      `Clock moved backwards by ${lastTimestampMs - nowMs} ms (last id at ${lastTimestampMs}, now ${nowMs}); ` +
        'refusing to issue ids until the clock catches up',
    );
  }

  get driftMs(): number {
    return this.lastTimestampMs - this.nowMs;
  }
}

/** The clock is before the custom epoch or past the 41-bit range (September 2089). */
export class ClockOutOfRangeError extends Error {
  override readonly name = 'ClockOutOfRangeError';
  constructor(readonly nowMs: number) {
    super(
      `Clock reads ${new Date(nowMs).toISOString()}, outside the range Snowflake ids can encode`,
    );
  }
}

/** The worker id lease expired or could not be renewed: another process may now hold this worker id. */
export class WorkerLeaseLostError extends Error {
  override readonly name = 'WorkerLeaseLostError';
  constructor(
    readonly workerId: number,
    readonly reason: string,
  ) {
    super(`Snowflake worker id ${workerId} is no longer leased (${reason}); refusing to issue ids`);
  }
}

/** Every worker id 0..1023 is leased by another process. */
export class NoFreeWorkerIdError extends Error {
  override readonly name = 'NoFreeWorkerIdError';
  constructor(readonly tried: number) {
    super(`No free Snowflake worker id: all ${tried} are leased`);
  }
}

export class InvalidWorkerIdError extends Error {
  override readonly name = 'InvalidWorkerIdError';
  constructor(
    readonly value: unknown,
    readonly source = 'workerId',
  ) {
    super(`${source} must be an integer in 0..1023, got ${JSON.stringify(value)}`);
  }
}

export class InvalidSnowflakeIdError extends Error {
  override readonly name = 'InvalidSnowflakeIdError';
  constructor(readonly value: unknown) {
    super(
      `Not a Snowflake id: ${describe(value)} (expected a positive 64-bit integer as a decimal string)`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  return typeof value;
}
