import { beforeEach, describe, expect, it } from '@jest/globals';
import { observeSagaSteps } from '../saga/saga-metrics.js';
import { composeSnowflakeId } from '../snowflake/snowflake-id.js';
import type { TccProgress } from '../tcc/tcc-definition.js';
import { observeTccSteps } from '../tcc/tcc-metrics.js';
import { flowStepDuration } from '../metrics/index.js';
import { observeFlowStep } from './flow-steps.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const sentAgo = (ms: number) =>
  composeSnowflakeId({ timestampMs: NOW - ms, workerId: 7, sequence: 0 });

/** The observations so far, as `flow step outcome` → [count, sum]. */
async function observed(): Promise<Record<string, [number, number]>> {
  const { values } = await flowStepDuration.get();
  const result: Record<string, [number, number]> = {};
  for (const { metricName, labels, value } of values) {
    const key = `${labels.flow} ${labels.step} ${labels.outcome}`;
    const entry = (result[key] ??= [0, 0]);
    if (metricName?.endsWith('_count')) entry[0] = value;
    if (metricName?.endsWith('_sum')) entry[1] = value;
  }
  return result;
}

describe('flow step latency', () => {
  beforeEach(() => flowStepDuration.reset());

  it("is the time since the command's Snowflake id was issued", async () => {
    observeFlowStep('saga', 'reserveStock', 'SUCCESS', sentAgo(250), NOW);
    expect(await observed()).toEqual({ 'saga reserveStock SUCCESS': [1, 0.25] });
  });

  it('is not recorded without a command, or for an id that is no Snowflake of now', async () => {
    observeFlowStep('saga', 'a', 'SUCCESS', null, NOW);
    observeFlowStep('saga', 'b', 'SUCCESS', '42', NOW);
    observeFlowStep('saga', 'c', 'SUCCESS', 'not an id', NOW);
    expect(await observed()).toEqual({});
  });

  it("counts a sender's clock slightly ahead as zero", async () => {
    observeFlowStep('tcc', 'payment.try', 'FAILURE', sentAgo(-5), NOW);
    expect(await observed()).toEqual({ 'tcc payment.try FAILURE': [1, 0] });
  });

  it("names a saga's compensation as the order API does, and skips PARKED and RESUMED", async () => {
    const line = { attempt: 1, reason: null };
    observeSagaSteps(
      [
        {
          ...line,
          step: 'takePayment',
          kind: 'action',
          outcome: 'FAILED',
          commandId: sentAgo(100),
        },
        {
          ...line,
          step: 'reserveStock',
          kind: 'compensation',
          outcome: 'COMPENSATED',
          commandId: sentAgo(300),
        },
        { ...line, step: 'takePayment', kind: 'action', outcome: 'PARKED', commandId: null },
      ],
      NOW,
    );
    expect(await observed()).toEqual({
      'saga takePayment FAILURE': [1, 0.1],
      'saga reserveStock.compensation SUCCESS': [1, 0.3],
    });
  });

  it('matches each new TCC history line to the command its branch awaited before', async () => {
    const branch = { payload: {}, settle: null } as const;
    const before: TccProgress = {
      status: 'CONFIRMING',
      results: {},
      branches: [
        { ...branch, name: 'inventory', try: 'SUCCEEDED', awaitedCommandId: sentAgo(400) },
        { ...branch, name: 'payment', try: 'SUCCEEDED', awaitedCommandId: sentAgo(200) },
      ],
      history: [{ step: 'inventory.try', outcome: 'SUCCESS', at: '' }],
      reason: null,
      attempts: 1,
      deadline: NOW,
      nextAttemptAt: NOW,
    };
    const after: TccProgress = {
      ...before,
      history: [...before.history, { step: 'payment.confirm', outcome: 'SUCCESS', at: '' }],
    };
    observeTccSteps(before, after, NOW);
    expect(await observed()).toEqual({ 'tcc payment.confirm SUCCESS': [1, 0.2] });
  });
});
