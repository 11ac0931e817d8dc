import { describe, expect, it } from '@jest/globals';
import { deploymentNameProblem } from '../config/defaults.js';
import {
  consumerGroupOf,
  logicalTopic,
  physicalGroup,
  physicalTopic,
  serviceGroup,
} from './deployment.js';

describe('deployment names', () => {
  it('leaves every name as it is without a deployment', () => {
    expect(physicalTopic('', 'inventory.commands')).toBe('inventory.commands');
    expect(logicalTopic('', 'inventory.commands')).toBe('inventory.commands');
    expect(consumerGroupOf('', 'order')).toBe('order-service');
  });

  it('prefixes topics and consumer groups with the deployment', () => {
    expect(physicalTopic('bench', 'inventory.commands')).toBe('bench.inventory.commands');
    expect(physicalTopic('bench', 'inventory.commands.dlq')).toBe('bench.inventory.commands.dlq');
    expect(physicalGroup('test', 'test-messaging-dlq-1')).toBe('test.test-messaging-dlq-1');
    expect(serviceGroup('payment')).toBe('payment-service');
    expect(consumerGroupOf('staging-2', 'payment')).toBe('staging-2.payment-service');
  });

  it('maps a broker topic back only when it is the deployment’s', () => {
    expect(logicalTopic('bench', 'bench.order.replies')).toBe('order.replies');
    expect(logicalTopic('bench', 'order.replies')).toBeUndefined();
    expect(logicalTopic('bench', 'bench2.order.replies')).toBeUndefined();
  });

  it('accepts short lower-case names and rejects what could clash or is not a topic character', () => {
    for (const name of ['', 'test', 'bench', 'staging-2', 'a', 'x'.repeat(32)]) {
      expect(deploymentNameProblem(name)).toBeUndefined();
    }
    for (const name of ['Test', 'a.b', 'a_b', '-a', 'a-', 'x'.repeat(33), 'a b', 'é']) {
      expect(deploymentNameProblem(name)).toEqual(expect.any(String));
    }
  });
});
