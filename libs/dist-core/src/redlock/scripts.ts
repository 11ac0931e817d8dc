import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { coalesceWrites } from './write-coalescing.js';

/**
 * The per-node halves of Redlock. Each runs as one Lua script, so a node applies it atomically
 * and the whole operation costs one round trip per node.
 *
 * Keys of a lock on resources r1…rn: `lock:<r>` holds the holder's random token with a PX ttl;
 * `fence:<r>` is a counter with no ttl, the source of the fencing tokens.
 */
export function lockKey(resource: string): string {
  return `lock:${resource}`;
}

export function fenceKey(resource: string): string {
  return `fence:${resource}`;
}

/** A script with its SHA1 computed once, when the module loads: each call sends only the hash. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function luaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Compares non-negative decimal strings without leading zeros exactly: Lua numbers are doubles,
 * so `tonumber` would round counters above 2^53. Shared by the scripts that take a max.
 */
const DECIMAL_GREATER = `
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
`;

/**
 * KEYS: lock keys (n), then fence keys (n). ARGV: token, ttl ms, n.
 * SET NX PX on every resource (all or none), then one fence for the lock that exceeds every
 * resource's counter on this node: the largest counter is INCRed (exact 64-bit in Redis) and the
 * others set to it, so each resource's counter still only increases. Returns nil when a resource
 * is held; otherwise the fence, as an integer while a double holds it exactly (< 2^53), beyond
 * that as a decimal string. One resource, the common case, costs two commands.
 */
export const ACQUIRE = luaScript(`
local n = tonumber(ARGV[3])
if n == 1 then
  if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
  local fence = redis.call('incr', KEYS[2])
  if fence < 9007199254740992 then return fence end
  return redis.call('get', KEYS[2])
end
${DECIMAL_GREATER}
for i = 1, n do
  if redis.call('exists', KEYS[i]) == 1 then return false end
end
for i = 1, n do
  redis.call('set', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
local top = n + 1
for i = n + 2, 2 * n do
  if greater(redis.call('get', KEYS[i]) or '0', redis.call('get', KEYS[top]) or '0') then top = i end
end
redis.call('incr', KEYS[top])
local fence = redis.call('get', KEYS[top])
for i = n + 1, 2 * n do
  if i ~= top then redis.call('set', KEYS[i], fence) end
end
return fence
`);

/** A fence as ACQUIRE answers it (integer or decimal string), or null for "resource held". */
export function fenceOf(reply: unknown): bigint | null {
  if (typeof reply === 'number') return BigInt(reply);
  if (typeof reply === 'string') return BigInt(reply);
  return null;
}

/**
 * KEYS: lock keys (n), then fence keys (n). ARGV: token, fence, n.
 * Raises every fence counter on this node to at least the lock's fence (never lowers one).
 * Returns 1 if this node still holds the lock for the token: only such a node can vouch that no
 * later holder's fence was drawn from it before the raise.
 */
export const RAISE_FENCE = luaScript(`${DECIMAL_GREATER}
local n = tonumber(ARGV[3])
for i = n + 1, 2 * n do
  if greater(ARGV[2], redis.call('get', KEYS[i]) or '0') then redis.call('set', KEYS[i], ARGV[2]) end
end
for i = 1, n do
  if redis.call('get', KEYS[i]) ~= ARGV[1] then return 0 end
end
return 1
`);

/** KEYS: lock keys. ARGV: token. Compare-and-delete: never removes another holder's lock. */
export const RELEASE = luaScript(`
local count = 0
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) == ARGV[1] then
    redis.call('del', KEYS[i])
    count = count + 1
  end
end
return count
`);

/**
 * KEYS: lock keys. ARGV: token, ttl ms. Compare-and-pexpire, all or none: returns 1 only if
 * every resource is still held with the token on this node.
 */
export const EXTEND = luaScript(`
for i = 1, #KEYS do
  if redis.call('get', KEYS[i]) ~= ARGV[1] then return 0 end
end
for i = 1, #KEYS do
  redis.call('pexpire', KEYS[i], ARGV[2])
end
return 1
`);

/**
 * EVALSHA, falling back to EVAL once when the node does not have the script (new or restarted).
 * The write is coalesced with the other commands this tick sends to the node (write-coalescing.ts).
 */
export function evalScript(
  client: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  coalesceWrites(client);
  return client.evalsha(script.sha1, keys.length, ...keys, ...args).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  });
}
