import { describe, expect, it } from '@jest/globals';
import type { KafkaClient } from './kafka-client.js';
import { KafkaConsumerServer, type KafkaConsumerServerOptions } from './kafka-consumer.server.js';
import { defineMessages, participant } from './message-catalog.js';

const inventory = participant('inventory');
const messages = defineMessages({
  'inventory.2pc.prepare': inventory.command<object>(),
  'inventory.2pc.commit': inventory.decision<object>(),
  'inventory.2pc.reply': inventory.reply<object>(),
});

/** The topics a server with these options subscribes to, given handlers for the three types. */
function subscribed(topics?: KafkaConsumerServerOptions['topics']): string[] {
  const server = new KafkaConsumerServer({} as KafkaClient, { groupId: 'g', messages, topics });
  for (const type of ['inventory.2pc.prepare', 'inventory.2pc.commit']) {
    server.addHandler(type, () => Promise.resolve(), true);
  }
  return (server as unknown as { subscribedTopics(): string[] }).subscribedTopics();
}

describe('KafkaConsumerServer topics (a second consumer for the decisions)', () => {
  it('subscribes to every handler topic by default', () => {
    expect(subscribed()).toEqual(['inventory.commands', 'inventory.decisions']);
  });

  it('splits them between the main consumer and a separate one, with nothing in both', () => {
    expect(subscribed({ except: ['inventory.decisions'] })).toEqual(['inventory.commands']);
    expect(subscribed({ only: ['inventory.decisions'] })).toEqual(['inventory.decisions']);
  });
});
