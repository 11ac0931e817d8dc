import { beforeEach, describe, expect, it } from '@jest/globals';
import { flowStepDuration } from '../metrics/catalog.js';
import { composeSnowflakeId } from '../snowflake/snowflake-id.js';
import { stepRecords } from '../tcc/tcc-machine.js';
import type { TccProgress } from '../tcc/tcc-definition.js';
import { observeSteps } from './flow-engine.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const sentAgo = (ms: number) =>
  composeSnowflakeId({ timestampMs: NOW - ms, workerId: 7, sequence: 0 });

async function observed(): Promise<string[]> {
  const { values } = await flowStepDuration.get();
  return values
    .filter(({ metricName }) => metricName?.endsWith('_sum'))
    .map(({ labels, value }) => `${labels.flow} ${labels.step} ${labels.outcome} ${value}`);
}

describe('step records', () => {
  beforeEach(() => flowStepDuration.reset());

  it('time each command a transition answered, and skip PARKED and RESUMED', async () => {
    observeSteps(
      'saga',
      [
        { step: 'takePayment', outcome: 'FAILURE', reason: 'X', commandId: sentAgo(100) },
        {
          step: 'reserveStock.compensation',
          outcome: 'SUCCESS',
          reason: null,
          commandId: sentAgo(300),
        },
        { step: 'takePayment', outcome: 'PARKED', reason: 'X', commandId: sentAgo(300) },
      ],
      NOW,
    );
    expect(await observed()).toEqual([
      'saga takePayment FAILURE 0.1',
      'saga reserveStock.compensation SUCCESS 0.3',
    ]);
  });

  it('of a TCC transition: each new line with the command its branch awaited before', () => {
    const branch = { payload: {}, settle: null } as const;
    const before: TccProgress = {
      status: 'CONFIRMING',
      results: {},
      branches: [
        { ...branch, name: 'inventory', try: 'SUCCEEDED', awaitedCommandId: '400' },
        { ...branch, name: 'payment', try: 'SUCCEEDED', awaitedCommandId: '200' },
      ],
      history: [{ step: 'inventory.try', outcome: 'SUCCESS', reason: null, at: '' }],
      reason: null,
      attempts: 1,
      deadline: NOW,
      nextAttemptAt: NOW,
    };
    const line = { step: 'payment.confirm', outcome: 'SUCCESS', reason: null, at: '' } as const;
    const after: TccProgress = { ...before, history: [...before.history, line] };
    expect(stepRecords(before, after)).toEqual([
      { step: 'payment.confirm', outcome: 'SUCCESS', reason: null, commandId: '200' },
    ]);
  });
});
