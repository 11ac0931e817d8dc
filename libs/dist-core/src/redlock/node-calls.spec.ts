import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { NodeTimeoutError, callNodes, unreachableCount, type NodeReply } from './node-calls.js';
import type { Vote } from './quorum.js';

// callNodes only reads `status` of a client and hands it to `call`: plain objects stand in for
// connected nodes, and `call` decides how each "node" answers. No Redis behaviour is imitated.
const nodes = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ status: 'ready', index }) as unknown as Redis);
const indexOf = (client: Redis) => (client as unknown as { index: number }).index;
const answeredVote = (reply: NodeReply<unknown>): Vote =>
  reply.state === 'answered' ? 'granted' : reply.state;
const never = new Promise<never>(() => undefined);

describe('callNodes', () => {
  it('resolves as soon as the decision holds, without waiting for a stalled node', async () => {
    const start = performance.now();
    const { replies, votes } = await callNodes({
      clients: nodes(3),
      timeoutMs: 1000,
      call: (client) => (indexOf(client) === 2 ? never : Promise.resolve('ok')),
      vote: answeredVote,
      decided: (votes) => votes.granted >= 2,
    });
    expect(performance.now() - start).toBeLessThan(200);
    expect(replies.map((reply) => reply.state)).toEqual(['answered', 'answered', 'pending']);
    expect(votes).toEqual({ granted: 2, refused: 0, failed: 0, pending: 1 });
  });

  it('counts a node that misses the deadline as a timeout, not as unreachable', async () => {
    const { replies, votes } = await callNodes({
      clients: nodes(3),
      timeoutMs: 30,
      call: (client) => (indexOf(client) === 0 ? Promise.resolve('ok') : never),
      vote: answeredVote,
      decided: (votes) => votes.granted >= 2,
    });
    expect(replies.map((reply) => reply.state)).toEqual(['answered', 'failed', 'failed']);
    expect(votes).toEqual({ granted: 1, refused: 0, failed: 2, pending: 0 });
    expect((replies[1] as { error: Error }).error).toBeInstanceOf(NodeTimeoutError);
    expect(unreachableCount(replies)).toBe(0);
  });

  it('records a rejected command as an unreachable node, that node only', async () => {
    const { replies } = await callNodes({
      clients: nodes(3),
      timeoutMs: 1000,
      call: (client) =>
        indexOf(client) === 1
          ? Promise.reject(new Error('connection refused'))
          : Promise.resolve(1),
      vote: answeredVote,
      decided: () => false,
    });
    expect(replies[1]).toEqual({ state: 'failed', error: new Error('connection refused') });
    expect(unreachableCount(replies)).toBe(1);
  });

  it('hands a reply that arrives after the decision to onLateReply, leaving the outcome as it was', async () => {
    let answerLate!: (value: string) => void;
    const late = new Promise<string>((resolve) => (answerLate = resolve));
    const lateReplies: [number, NodeReply<string>][] = [];
    const outcome = await callNodes({
      clients: nodes(2),
      timeoutMs: 1000,
      call: (client) => (indexOf(client) === 0 ? Promise.resolve('first') : late),
      vote: answeredVote,
      decided: (votes) => votes.granted >= 1,
      onLateReply: (index, reply) => lateReplies.push([index, reply]),
    });
    answerLate('second');
    await late;
    await Promise.resolve();
    expect(outcome.replies[1]).toEqual({ state: 'pending' });
    expect(lateReplies).toEqual([[1, { state: 'answered', value: 'second' }]]);
  });

  it('still times out the calls left pending when others, older and newer, finished first', async () => {
    const stalled = (timeoutMs: number) =>
      callNodes({
        clients: nodes(1),
        timeoutMs,
        call: () => never,
        vote: answeredVote,
        decided: () => false,
      });
    const answered = () =>
      callNodes({
        clients: nodes(1),
        timeoutMs: 1000,
        call: () => Promise.resolve('ok'),
        vote: answeredVote,
        decided: () => false,
      });
    // Pending list: answered, stalled, answered, stalled, answered: unlinked at both ends and
    // in the middle before the sweep.
    const outcomes = [answered(), stalled(20), answered(), stalled(40), answered()];
    const [first, early, middle, late, last] = await Promise.all(outcomes);
    for (const outcome of [first, middle, last]) expect(outcome.votes.granted).toBe(1);
    for (const outcome of [early, late]) {
      expect(outcome.votes.failed).toBe(1);
      expect((outcome.replies[0] as { error: Error }).error).toBeInstanceOf(NodeTimeoutError);
    }
  });
});
