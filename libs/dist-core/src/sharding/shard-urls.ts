/**
 * Shard identity. A shard's name is its position in the ORDER_DB_SHARDS list: shard-0, shard-1, …
 *
 * Why position and not the URL: the ring is seeded by the names, so anything that enters a name
 * re-routes keys. A password rotation, a new host after a failover or a renamed database must
 * not move a single row, and with positional names they don't. What does change the ring is
 * the list's length and order: append to add a shard, never reorder, and remove only the last
 * (or move its rows away first with shards:rebalance).
 */
export function shardName(index: number): string {
  return `shard-${index}`;
}

/** The comma-separated URL list of ORDER_DB_SHARDS (and ORDER_DB_SHARDS_PREVIOUS). */
export function parseShardUrls(text: string): string[] {
  return text
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
}

/** host:port/database — what identifies a database, without the credentials. */
export function databaseOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`not a postgres:// URL: ${redactPassword(url)}`);
  }
  return `${parsed.hostname}:${parsed.port || '5432'}${decodeURIComponent(parsed.pathname)}`;
}

/** The URL with its password replaced, fit for logs and errors. */
export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable URL>';
  }
}

/**
 * The URLs a process connects to during a move, shard-i at position i: ORDER_DB_SHARDS, then
 * the entries of ORDER_DB_SHARDS_PREVIOUS beyond it (shards being removed, still read). Refuses
 * a previous list whose first entries are other databases: positional names only work if
 * shard-i is the same database before and after.
 */
export function shardUrlsDuringMove(urls: string[], previousUrls?: string[]): string[] {
  if (!previousUrls) return urls;
  for (let i = 0; i < Math.min(urls.length, previousUrls.length); i++) {
    if (databaseOf(urls[i]) !== databaseOf(previousUrls[i])) {
      throw new Error(
        `${shardName(i)} is ${redactPassword(previousUrls[i])} before the move but ` +
          `${redactPassword(urls[i])} after it: shards are named by position, append new ones`,
      );
    }
  }
  return [...urls, ...previousUrls.slice(urls.length)];
}
