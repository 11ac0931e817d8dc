import { describe, expect, it } from '@jest/globals';
import { defineMessages, message, messagesOn, participant } from './message-catalog.js';

describe('defineMessages', () => {
  const stock = defineMessages({
    'inventory.reserve': message<{ sku: string }>('inventory.commands'),
    'inventory.release': { topic: 'inventory.commands' },
    'inventory.reply': { topic: 'inventory.replies' },
  });

  it('maps each type to its topic and lists the topics once', () => {
    expect(stock.topicOf('inventory.release')).toBe('inventory.commands');
    expect(stock.topics()).toEqual(['inventory.commands', 'inventory.replies']);
    expect(stock.route('inventory.reserve')).toEqual({
      topic: 'inventory.commands',
      type: 'inventory.reserve',
    });
  });

  it('knows no undeclared type, not even one named like an Object property', () => {
    expect(stock.topicOf('constructor')).toBeUndefined();
    expect(stock.topicOf('inventory.unknown')).toBeUndefined();
  });

  it('refuses illegal and dead-letter topic names', () => {
    expect(() => defineMessages({ a: { topic: 'bad topic' } })).toThrow(/invalid topic/);
    expect(() => defineMessages({ a: { topic: 'x.dlq' } })).toThrow(/invalid topic/);
    expect(() => defineMessages({ '': { topic: 'x' } })).toThrow(/non-empty/);
  });

  it("names each participant's topics and the participant each of its types belongs to", () => {
    const inventory = participant('inventory');
    expect([inventory.commands, inventory.replies]).toEqual([
      'inventory.commands',
      'inventory.replies',
    ]);
    const flow = defineMessages({
      'stock.reserve': inventory.command(),
      'stock.reply': inventory.reply(),
      'audit.note': message('audit'),
    });
    expect(flow.topicOf('stock.reply')).toBe('inventory.replies');
    expect(flow.participantOf('stock.reserve')).toBe('inventory');
    expect(flow.participantOf('stock.reply')).toBe('inventory');
    expect(flow.participantOf('audit.note')).toBeUndefined();
    expect(flow.participantOf('constructor')).toBeUndefined();
  });

  it('keeps only the types of the given topics', () => {
    const commands = messagesOn(stock, ['inventory.commands']);
    expect(commands.topics()).toEqual(['inventory.commands']);
    expect(commands.topicOf('inventory.reserve')).toBe('inventory.commands');
    expect(commands.topicOf('inventory.reply')).toBeUndefined();
  });
});
