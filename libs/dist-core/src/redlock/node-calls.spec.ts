import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { callNodes, type NodeReply } from './node-calls.js';

// callNodes only reads `status` of a client and hands it to `call`: plain objects stand in for
// connected nodes, and `call` decides how each "node" answers. No Redis behaviour is imitated.
const nodes = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ status: 'ready', index }) as unknown as Redis);
const indexOf = (client: Redis) => (client as unknown as { index: number }).index;
const answered = (replies: readonly NodeReply<unknown>[]) =>
  replies.filter((reply) => reply.state === 'answered').length;
const never = new Promise<never>(() => undefined);

describe('callNodes', () => {
  it('resolves early once the decision holds, without waiting for a stalled node', async () => {
    const start = performance.now();
    const calls = callNodes(
      nodes(3),
      1000,
      (client) => (indexOf(client) === 2 ? never : Promise.resolve('ok')),
      (replies) => answered(replies) >= 2,
    );
    const early = await calls.early;
    expect(performance.now() - start).toBeLessThan(200);
    expect(early.map((reply) => reply.state)).toEqual(['answered', 'answered', 'pending']);
  });

  it('counts a node that misses the deadline as failed', async () => {
    const calls = callNodes(
      nodes(3),
      30,
      (client) => (indexOf(client) === 0 ? Promise.resolve('ok') : never),
      (replies) => answered(replies) >= 2,
    );
    const all = await calls.all;
    expect(all.map((reply) => reply.state)).toEqual(['answered', 'failed', 'failed']);
    expect(await calls.early).toEqual(all);
  });

  it('records a rejected command as a failure of that node only', async () => {
    const calls = callNodes(
      nodes(3),
      1000,
      (client) =>
        indexOf(client) === 1
          ? Promise.reject(new Error('connection refused'))
          : Promise.resolve(1),
      () => false,
    );
    const all = await calls.all;
    expect(all[1]).toEqual({ state: 'failed', error: new Error('connection refused') });
    expect(answered(all)).toBe(2);
  });

  it('keeps the early snapshot unchanged by later replies', async () => {
    let answerLate!: (value: string) => void;
    const late = new Promise<string>((resolve) => (answerLate = resolve));
    const calls = callNodes(
      nodes(2),
      1000,
      (client) => (indexOf(client) === 0 ? Promise.resolve('first') : late),
      (replies) => answered(replies) >= 1,
    );
    const early = await calls.early;
    answerLate('second');
    const all = await calls.all;
    expect(early[1]).toEqual({ state: 'pending' });
    expect(all[1]).toEqual({ state: 'answered', value: 'second' });
  });
});
