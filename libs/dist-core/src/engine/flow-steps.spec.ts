import { beforeEach, describe, expect, it } from '@jest/globals';
import { composeSnowflakeId } from '../snowflake/snowflake-id.js';
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
});
