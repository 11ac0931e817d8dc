import { describe, expect, it } from '@jest/globals';
import {
  findJsonShapeProblem,
  MAX_JSON_ARRAY_LENGTH,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  scanJsonStructure,
} from './json-shape.js';

const scan = (text: string) => scanJsonStructure(Buffer.from(text, 'utf8'));

describe('scanJsonStructure', () => {
  it('passes a real order body', () => {
    const lines = Array.from({ length: 100 }, (_, i) => ({ sku: `S${i}`, quantity: 1 }));
    expect(scan(JSON.stringify({ customerId: 'c', items: lines, strategy: 'tcc' }))).toBeNull();
  });

  it('allows the depth bound and refuses one level more', () => {
    expect(scan('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBeNull();
    expect(scan('{"a":'.repeat(MAX_JSON_DEPTH + 1))).toContain('deeper than 32 levels');
  });

  it('counts values, and refuses more than the bound', () => {
    expect(scan(JSON.stringify(Array(MAX_JSON_VALUES - 1).fill(0)))).toBeNull();
    expect(scan(JSON.stringify(Array(MAX_JSON_VALUES + 1).fill(0)))).toContain(
      'more than 1000 values',
    );
  });

  it('does not count brackets and commas inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ name: '[[[,,,{{{ \\" ]]]'.repeat(500) });
    expect(scan(text)).toBeNull();
  });

  it('is not fooled by multi-byte characters', () => {
    expect(scan(JSON.stringify({ name: '日本語 ✓ '.repeat(1000) }))).toBeNull();
  });
});

describe('findJsonShapeProblem', () => {
  it('names the path of a string with a control character', () => {
    expect(findJsonShapeProblem({ items: [{ sku: 'ok' }, { sku: 'a\u0000' }] })).toBe(
      'items.1.sku must not contain control characters (U+0000-U+001F, U+007F)',
    );
    expect(findJsonShapeProblem({ name: 'tab\there' })).toContain('name must not contain');
    expect(findJsonShapeProblem({ name: 'del\u007f' })).toContain('name must not contain');
    expect(findJsonShapeProblem('\u0001')).toContain('body must not contain');
  });

  it('refuses a control character in a field name', () => {
    expect(findJsonShapeProblem({ a: { 'b\u0000': 1 } })).toBe(
      'a field name in a must not contain control characters (U+0000-U+001F, U+007F)',
    );
  });

  it('refuses an array longer than any endpoint takes, naming it', () => {
    const items = Array(MAX_JSON_ARRAY_LENGTH + 1).fill({ sku: 'a', quantity: 1 });
    expect(findJsonShapeProblem({ items })).toBe('items must contain no more than 100 elements');
  });

  it('passes ordinary text, unicode included', () => {
    expect(findJsonShapeProblem({ name: 'Café — 1 kg ☕', n: 1, ok: true, none: null })).toBeNull();
  });
});
