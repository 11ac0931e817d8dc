// MurmurHash3 x86_32 (Austin Appleby, public domain) over the UTF-8 bytes of a string.
//
// Why not md5 (what ketama and npm `hashring` use): a ring needs a well-mixed 32-bit value, not
// a cryptographic digest. md5 goes through node:crypto, allocates a Buffer and a digest per call
// and costs ~1 µs; murmur3 is a few multiply-rotate steps per 4 bytes, ~20 ns for a Snowflake id.
// Its avalanche is good enough that vnode labels differing in one digit land far apart.
//
// Why over UTF-8 bytes: the value must be the same in every process and every language that
// might route a key (psql scripts, other services), and UTF-8 bytes are the portable definition.
// ASCII keys (Snowflake ids, shard labels) are hashed straight from their char codes, so a lookup
// allocates nothing; only a non-ASCII key is encoded, into a reused scratch buffer.

// Captured once: inside a vm context (Jest runs tests in one) every lookup of the global `Math`
// goes through the context's interceptor and costs more than the whole hash.
export const imul = Math.imul;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

function mixK(k: number): number {
  k = imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (imul(h, 5) + 0xe6546b64) | 0;
}

function finalize(h: number, byteLength: number): number {
  h ^= byteLength;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86_32 of raw bytes; returns an unsigned 32-bit integer. */
export function murmur3_32Bytes(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let h = seed | 0;
  const blockEnd = length & ~3;
  let i = 0;
  for (; i < blockEnd; i += 4) {
    h = mixH(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    let k = bytes[i];
    if (rest > 1) k |= bytes[i + 1] << 8;
    if (rest > 2) k |= bytes[i + 2] << 16;
    h ^= mixK(k);
  }
  return finalize(h, length);
}

function murmur3_32Utf8(key: string, seed: number): number {
  // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3);
  const { written } = encoder.encodeInto(key, scratch);
  return murmur3_32Bytes(scratch, seed, written);
}

/** MurmurHash3 x86_32 of the UTF-8 encoding of `key`; returns an unsigned 32-bit integer. */
export function murmur3_32(key: string, seed = 0): number {
  const length = key.length;
  let h = seed | 0;
  const blockEnd = length & ~3;
  let i = 0;
  for (; i < blockEnd; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    // A non-ASCII char means char codes are not bytes: start over on the UTF-8 encoding.
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3_32Utf8(key, seed);
    h = mixH(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const rest = length & 3;
  if (rest > 0) {
    const c0 = key.charCodeAt(i);
    const c1 = rest > 1 ? key.charCodeAt(i + 1) : 0;
    const c2 = rest > 2 ? key.charCodeAt(i + 2) : 0;
    if ((c0 | c1 | c2) > 0x7f) return murmur3_32Utf8(key, seed);
    h ^= mixK(c0 | (c1 << 8) | (c2 << 16));
  }
  return finalize(h, length);
}
