import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { Consumer } from 'kafkajs';
import { ConsumerGroupStatus } from './consumer-group-status.js';

const EVENTS = { GROUP_JOIN: 'join', CRASH: 'crash', STOP: 'stop' };

/** Just the part of a kafkajs Consumer the status listens to. */
function consumer(): Consumer & { emit(event: string, payload?: unknown): boolean } {
  const emitter = new EventEmitter();
  return Object.assign(emitter, { events: EVENTS }) as never;
}

const joined = (groupId: string) => ({
  payload: { groupId, memberId: 'm-1', memberAssignment: { 'inventory.decisions': [0, 1] } },
});

describe('ConsumerGroupStatus', () => {
  it('is ready only once every consumer of the process joined its group', () => {
    const status = new ConsumerGroupStatus();
    const main = consumer();
    const decisions = consumer();
    expect(status.ready).toBe(false);
    status.watch(main, undefined, 'inventory-service');
    status.watch(decisions, undefined, 'inventory-decisions');

    main.emit('join', joined('inventory-service'));
    expect(status.ready).toBe(false);
    expect(status.describe()).toMatch(/inventory-decisions joining/);

    decisions.emit('join', joined('inventory-decisions'));
    expect(status.ready).toBe(true);
    expect(status.assignment).toEqual({ 'inventory.decisions': [0, 1, 0, 1] });

    decisions.emit('crash', { payload: { restart: false, error: new Error('gone') } });
    expect(status.ready).toBe(false);
    // A restarted consumer of the same group replaces the stopped one.
    const again = consumer();
    status.watch(again, undefined, 'inventory-decisions');
    again.emit('join', joined('inventory-decisions'));
    expect(status.ready).toBe(true);
  });
});
