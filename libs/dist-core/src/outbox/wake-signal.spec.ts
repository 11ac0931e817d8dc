import { describe, expect, it } from '@jest/globals';
import { WakeSignal } from './wake-signal.js';

describe('WakeSignal', () => {
  it('sleeps until the deadline without a wake-up', async () => {
    const started = Date.now();
    await new WakeSignal().wait(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('returns early when woken', async () => {
    const signal = new WakeSignal();
    const started = Date.now();
    setTimeout(() => signal.wake(), 10);
    await signal.wait(5000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('remembers a wake-up that came while nobody waited, once', async () => {
    const signal = new WakeSignal();
    signal.wake();
    signal.wake();
    const started = Date.now();
    await signal.wait(5000);
    expect(Date.now() - started).toBeLessThan(100);
    await signal.wait(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
