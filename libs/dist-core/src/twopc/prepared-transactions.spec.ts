import { describe, expect, it } from '@jest/globals';
import { gidLiteral, PrepareDeferredError, prepareFailure } from './prepared-transactions.js';

describe('prepareFailure', () => {
  it.each([
    ['55P03', 'lock_timeout'],
    ['53400', 'max_prepared_transactions'],
    ['40P01', 'deadlock'],
  ])('defers SQLSTATE %s (%s): retried, not a vote no', (code, reason) => {
    const failure = prepareFailure('g', Object.assign(new Error('x'), { code }));
    expect(failure).toBeInstanceOf(PrepareDeferredError);
    expect(String((failure as Error).message)).toContain(reason);
    // TypeORM's QueryFailedError carries the driver's code on driverError.
    const wrapped = prepareFailure('g', Object.assign(new Error('x'), { driverError: { code } }));
    expect(wrapped).toBeInstanceOf(PrepareDeferredError);
  });

  it('passes any other fault through as it is', () => {
    const error = Object.assign(new Error('x'), { code: '23505' });
    expect(prepareFailure('g', error)).toBe(error);
  });
});

describe('gidLiteral', () => {
  it('quotes a gid of the allowed characters and refuses anything that could end the literal', () => {
    expect(gidLiteral('twopc:inventory:123:inventory')).toBe("'twopc:inventory:123:inventory'");
    expect(() => gidLiteral("x'; DROP TABLE y; --")).toThrow(/Invalid/);
    expect(() => gidLiteral('')).toThrow(/Invalid/);
  });
});
