/**
 * Cheap checks of a JSON request body, so that hostile input is refused before it costs
 * anything: a body nested thousands deep overflows the stack of the recursive transform that
 * turns JSON into DTO instances (a 500), and one with tens of thousands of values costs a
 * second of CPU in that transform and the validator before its 400. Every endpoint of this
 * project takes small, flat bodies, so the bounds are far above any real request.
 */

/** Deepest nesting of arrays and objects accepted: a real body here is 3 levels deep. */
export const MAX_JSON_DEPTH = 32;
/** Most values (array elements and object members) in one body: an order of 100 lines is ~300. */
export const MAX_JSON_VALUES = 1_000;
/** Longest array accepted anywhere: no endpoint takes more than 100 elements (order lines). */
export const MAX_JSON_ARRAY_LENGTH = 100;

/** U+0000–U+001F and U+007F: no name, SKU or id has a reason to carry one, and NUL breaks Postgres text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
export const CONTROL_CHARACTER_RULE = 'must not contain control characters (U+0000-U+001F, U+007F)';

export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * One pass over the raw UTF-8 bytes, before JSON.parse: the problem with the body's size in
 * structure, or null. Only brackets and commas outside strings are counted (each container and
 * each separator is one more value), which needs no parsing: in UTF-8 every byte of a
 * multi-byte character is ≥ 0x80, so none is mistaken for a quote or a bracket. Whether the
 * text is valid JSON is left to the parser.
 */
export function scanJsonStructure(bytes: Uint8Array): string | null {
  let depth = 0;
  let values = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH) {
        return `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;
      }
      values++;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    } else if (byte === COMMA) {
      values++;
    }
    if (values > MAX_JSON_VALUES) {
      return `Request body has more than ${MAX_JSON_VALUES} values (array elements and object members)`;
    }
  }
  return null;
}

/**
 * After JSON.parse and before any transform: the first string (or field name) with a control
 * character, or array longer than any endpoint takes, named by its path as the validator names
 * fields (`items.0.sku`); null if there is none. Recursion is safe: the scan bounded the depth.
 */
export function findJsonShapeProblem(value: unknown, path = ''): string | null {
  const named = path || 'body';
  if (typeof value === 'string') {
    return hasControlCharacter(value) ? `${named} ${CONTROL_CHARACTER_RULE}` : null;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_JSON_ARRAY_LENGTH) {
      return `${named} must contain no more than ${MAX_JSON_ARRAY_LENGTH} elements`;
    }
    for (let i = 0; i < value.length; i++) {
      const problem = findJsonShapeProblem(value[i], path ? `${path}.${i}` : String(i));
      if (problem) return problem;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      if (hasControlCharacter(key)) return `a field name in ${named} ${CONTROL_CHARACTER_RULE}`;
      const problem = findJsonShapeProblem(member, path ? `${path}.${key}` : key);
      if (problem) return problem;
    }
  }
  return null;
}
