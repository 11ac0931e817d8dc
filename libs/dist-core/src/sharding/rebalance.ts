import pg from 'pg';
import { HashRing, type HashRingOptions } from '../hashing/index.js';
import { claimFence, lockFencesTableSql } from '../redlock/index.js';
import { databaseOf, redactPassword, shardName } from './shard-urls.js';

/** A table whose rows live on the shard that owns their shard key. */
export interface ShardedTable {
  /** Table name, optionally schema-qualified: plain lower-case identifiers. */
  table: string;
  /**
   * Column holding the key the ring routes. Its text form (`column::text`) must be the string the
   * application passes to ShardRouter.forKey: for a bigint Snowflake id, the decimal string.
   */
  shardKey: string;
}

export interface RebalanceOptions {
  /** Shard URLs of the ring the rows were placed by (ORDER_DB_SHARDS_PREVIOUS). */
  from: string[];
  /** Shard URLs of the ring to move them to (ORDER_DB_SHARDS). */
  to: string[];
  /**
   * Tables to move, parents first: rows of every table with the same shard keys move together
   * (inserted parents first, deleted children first), so foreign keys hold on both sides and a
   * reader never finds an order on its new owner without its items.
   */
  tables: ShardedTable[];
  /** Distinct shard keys scanned per batch, and the most moved in one transaction. Default 500. */
  batchSize?: number;
  ring?: HashRingOptions;
  /** Connections per shard. Default 2 (one source transaction + one destination transaction). */
  poolSize?: number;
  /** Aborts between batches (Redlock's `using` aborts it when the lock is lost). */
  signal?: AbortSignal;
  /**
   * The Redlock fence of this run. Each batch's delete claims it on the source shard first, so a
   * rebalancer that lost its lock (paused past the ttl) cannot delete once a newer one has run.
   */
  fence?: bigint;
  /** The Redlock resource the fence belongs to. Default REBALANCE_LOCK_RESOURCE. */
  lockResource?: string;
  log?: (line: string) => void;
  /** Called after a batch's copy committed and before its delete: where a crash leaves rows on both. */
  afterCopy?: (batch: { from: string; to: string; keys: string[] }) => Promise<void> | void;
}

export interface RebalanceReport {
  /** Distinct shard keys looked at, over all shards and tables. */
  keysScanned: number;
  /** Distinct shard keys whose rows were moved. */
  keysMoved: number;
  /** Rows deleted from their old owner, per table. */
  rowsMoved: Record<string, number>;
  /** Rows newly inserted on their new owner, per table (fewer than rowsMoved after a crash). */
  rowsCopied: Record<string, number>;
  /** "shard-0 → shard-3": keys moved along each route. */
  routes: Record<string, number>;
}

/** Fence table on every shard: the newest rebalance fence that deleted there. */
export const REBALANCE_FENCE_TABLE = 'shard_rebalance_fences';
export const REBALANCE_LOCK_RESOURCE = 'shards:rebalance';

const IDENTIFIER = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain lower-case identifier: ${name}`);
  return name;
}

interface Shard {
  name: string;
  url: string;
  pool: pg.Pool;
}

interface PreparedTable extends ShardedTable {
  /** The shard key column's SQL type, e.g. bigint: keys travel as text and are cast back. */
  keyType: string;
}

/**
 * Moves every row whose owner differs between the ring of `from` and the ring of `to` (adding or
 * removing a shard), in batches of shard keys:
 *
 *   source:       BEGIN; claim fence; SELECT … FOR UPDATE  (the batch's rows, every table)
 *   destination:  BEGIN; INSERT … ON CONFLICT DO NOTHING; COMMIT
 *   source:       DELETE; COMMIT
 *
 * Why copy-then-delete: at every instant each row exists on at least one shard, so a reader that
 * tries the new owner and then the old one (ShardRouter.findAcrossMove) always finds it. Why the
 * row locks: a writer updating a row on its old owner waits for the batch, then finds it gone
 * and retries on the new owner, so no update lands on a copy about to be deleted. Why it is
 * resumable without a checkpoint: a crash after the copy leaves rows on both shards; the rerun
 * scans the old owner again, its copy is a no-op (ON CONFLICT DO NOTHING keeps the new owner's
 * row, which may have been written since) and the delete completes.
 *
 * Moving by shard key rather than row by row keeps an aggregate together: an order and its items
 * share the order id, so they leave and arrive in the same transactions.
 */
export async function rebalance(options: RebalanceOptions): Promise<RebalanceReport> {
  const { from, to, tables, signal, fence } = options;
  const batchSize = options.batchSize ?? 500;
  const log = options.log ?? (() => undefined);
  if (from.length === 0 || to.length === 0)
    throw new Error('rebalance needs --from and --to shard lists');
  if (tables.length === 0) throw new Error('rebalance needs at least one sharded table');
  for (const { table, shardKey } of tables) {
    identifier(table);
    identifier(shardKey);
  }
  for (let i = 0; i < Math.min(from.length, to.length); i++) {
    if (databaseOf(from[i]) !== databaseOf(to[i])) {
      throw new Error(
        `${shardName(i)} is ${redactPassword(from[i])} in --from but ${redactPassword(to[i])} in --to: ` +
          'shards are named by position, so the new list must start with the old one',
      );
    }
  }

  const newRing = new HashRing(
    to.map((_, i) => shardName(i)),
    options.ring,
  );
  const shards: Shard[] = Array.from({ length: Math.max(from.length, to.length) }, (_, i) => {
    const url = to[i] ?? from[i];
    return {
      name: shardName(i),
      url,
      pool: new pg.Pool({ connectionString: url, max: options.poolSize ?? 2 }),
    };
  });
  const byName = new Map(shards.map((s) => [s.name, s]));

  const report: RebalanceReport = {
    keysScanned: 0,
    keysMoved: 0,
    rowsMoved: Object.fromEntries(tables.map((t) => [t.table, 0])),
    rowsCopied: Object.fromEntries(tables.map((t) => [t.table, 0])),
    routes: {},
  };

  try {
    const prepared = await prepareTables(shards, tables);
    if (fence !== undefined) {
      await Promise.all(shards.map((s) => s.pool.query(lockFencesTableSql(REBALANCE_FENCE_TABLE))));
    }
    log(
      `rebalance ${from.length} → ${to.length} shards, tables ${tables.map((t) => t.table).join(', ')}`,
    );

    // Every shard is scanned, not only those of `from`: rows written by a process still on the
    // old configuration after an earlier run are found and moved too.
    for (const source of shards) {
      for (const table of prepared) {
        let cursor: string | null = null;
        for (;;) {
          signal?.throwIfAborted();
          const keys = await scanKeys(source, table, cursor, batchSize);
          if (keys.length === 0) break;
          cursor = keys[keys.length - 1];
          report.keysScanned += keys.length;

          const byDestination = new Map<string, string[]>();
          for (const key of keys) {
            const owner = newRing.owner(key);
            if (owner === source.name) continue;
            if (!byDestination.has(owner)) byDestination.set(owner, []);
            byDestination.get(owner)!.push(key);
          }
          for (const [destination, movingKeys] of byDestination) {
            signal?.throwIfAborted();
            await moveBatch(
              source,
              byName.get(destination)!,
              prepared,
              movingKeys,
              options,
              report,
            );
            const route = `${source.name} → ${destination}`;
            report.routes[route] = (report.routes[route] ?? 0) + movingKeys.length;
            report.keysMoved += movingKeys.length;
          }
          if (keys.length < batchSize) break;
        }
      }
    }
    log(
      `moved ${report.keysMoved} of ${report.keysScanned} keys scanned (${
        Object.entries(report.routes)
          .map(([route, n]) => `${route}: ${n}`)
          .join(', ') || 'nothing to move'
      })`,
    );
    return report;
  } finally {
    await Promise.all(shards.map((s) => s.pool.end()));
  }
}

/** Checks each table exists on every shard and reads its shard key's type. */
async function prepareTables(shards: Shard[], tables: ShardedTable[]): Promise<PreparedTable[]> {
  const prepared: PreparedTable[] = [];
  for (const table of tables) {
    let keyType: string | undefined;
    for (const shard of shards) {
      const { rows } = await shard.pool.query<{ type: string | null }>(
        `SELECT format_type(a.atttypid, a.atttypmod) AS type
           FROM pg_attribute a
          WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
        [table.table, table.shardKey],
      );
      const type = rows[0]?.type;
      if (!type) {
        throw new Error(
          `${shard.name} (${redactPassword(shard.url)}) has no column ${table.table}.${table.shardKey}: ` +
            'run the migrations on every shard first (start the service with the new ORDER_DB_SHARDS)',
        );
      }
      if (keyType !== undefined && keyType !== type) {
        throw new Error(
          `${table.table}.${table.shardKey} is ${keyType} on one shard and ${type} on ${shard.name}`,
        );
      }
      keyType = type;
    }
    prepared.push({ ...table, keyType: keyType! });
  }
  return prepared;
}

/** The next `limit` distinct shard keys after `cursor`, in key order (keyset pagination). */
async function scanKeys(
  shard: Shard,
  table: PreparedTable,
  cursor: string | null,
  limit: number,
): Promise<string[]> {
  const column = identifier(table.shardKey);
  // Two texts rather than `$1 IS NULL OR …`, so each gets a plain index range scan.
  const after = cursor === null ? '' : `WHERE ${column} > $2::${table.keyType}`;
  const { rows } = await shard.pool.query<{ key: string }>(
    `SELECT ${column}::text AS key FROM ${identifier(table.table)} ${after}
      GROUP BY ${column} ORDER BY ${column} LIMIT $1`,
    cursor === null ? [limit] : [limit, cursor],
  );
  return rows.map((r) => r.key);
}

async function moveBatch(
  source: Shard,
  destination: Shard,
  tables: PreparedTable[],
  keys: string[],
  options: RebalanceOptions,
  report: RebalanceReport,
): Promise<void> {
  const sourceClient = await source.pool.connect();
  try {
    await sourceClient.query('BEGIN');
    if (options.fence !== undefined) {
      const current = await claimFence(
        sourceClient,
        options.lockResource ?? REBALANCE_LOCK_RESOURCE,
        options.fence,
        REBALANCE_FENCE_TABLE,
      );
      if (!current) {
        throw new Error(
          `a newer rebalance (fence > ${options.fence}) has run on ${source.name}: stopping`,
        );
      }
    }

    // The rows as JSON text: Postgres renders and parses every column type itself, and bigint
    // values never pass through a JS number.
    const rowsByTable: string[] = [];
    for (const table of tables) {
      const { rows } = await sourceClient.query<{ rows: string }>(
        `SELECT coalesce(json_agg(t), '[]')::text AS rows FROM (
           SELECT * FROM ${identifier(table.table)}
            WHERE ${identifier(table.shardKey)} = ANY($1::${table.keyType}[]) FOR UPDATE
         ) t`,
        [keys],
      );
      rowsByTable.push(rows[0].rows);
    }

    const copied = tables.map(() => 0);
    const deleted = tables.map(() => 0);
    const destinationClient = await destination.pool.connect();
    try {
      await destinationClient.query('BEGIN');
      for (const [i, table] of tables.entries()) {
        const name = identifier(table.table);
        // Columns by name (json_populate_recordset of the destination's row type), so the two
        // shards' column order does not matter; OVERRIDING keeps identity values as they were.
        const inserted = await destinationClient.query(
          `INSERT INTO ${name} OVERRIDING SYSTEM VALUE
           SELECT * FROM json_populate_recordset(NULL::${name}, $1::json)
           ON CONFLICT DO NOTHING`,
          [rowsByTable[i]],
        );
        copied[i] = inserted.rowCount ?? 0;
      }
      await destinationClient.query('COMMIT');
    } catch (error) {
      await destinationClient.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      destinationClient.release();
    }

    await options.afterCopy?.({ from: source.name, to: destination.name, keys });

    for (let i = tables.length - 1; i >= 0; i--) {
      const { table, shardKey, keyType } = tables[i];
      const result = await sourceClient.query(
        `DELETE FROM ${identifier(table)} WHERE ${identifier(shardKey)} = ANY($1::${keyType}[])`,
        [keys],
      );
      deleted[i] = result.rowCount ?? 0;
    }
    await sourceClient.query('COMMIT');
    tables.forEach(({ table }, i) => {
      report.rowsCopied[table] += copied[i];
      report.rowsMoved[table] += deleted[i];
    });
  } catch (error) {
    await sourceClient.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    sourceClient.release();
  }
}
