#!/usr/bin/env node
// shards:rebalance — moves rows between order shards after ORDER_DB_SHARDS changed.
//
//   node libs/dist-core/dist/sharding/rebalance-cli.js \
//     [--from <urls>] [--to <urls>] [--tables orders:id,order_items:order_id] [--batch 500]
//     [--lock-resource shards:rebalance]
//
// --from defaults to ORDER_DB_SHARDS_PREVIOUS, --to to ORDER_DB_SHARDS, --tables to
// ORDER_SHARDED_TABLES (table:shard_key_column, parents first). The Redlock quorum is REDIS_NODES.
// Exit status 0 when every row is on its owner under --to; 1 with one line on stderr otherwise.
// The procedure around it is in README.md beside this file.
import { parseArgs } from 'node:util';
import { DEFAULTS, env, loadConfig, sharedConfig } from '../config/index.js';
import { Redlock, createRedlockClients } from '../redlock/index.js';
import { REBALANCE_LOCK_RESOURCE, rebalance, type ShardedTable } from './rebalance.js';
import { parseShardUrls } from './shard-urls.js';

/** Long enough to survive a slow batch; Redlock's `using` extends it while the run lasts. */
const LOCK_TTL_MS = 30_000;

function parseTables(text: string): ShardedTable[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const [table, shardKey, ...rest] = entry.split(':');
      if (!table || !shardKey || rest.length > 0) {
        throw new Error(`--tables entry "${entry}" is not table:shard_key_column`);
      }
      return { table, shardKey };
    });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      tables: { type: 'string' },
      batch: { type: 'string' },
      // Fences only grow while the Redis nodes keep their counters (no persistence by default):
      // a separate resource gives a separate fence sequence, e.g. for a test run.
      'lock-resource': { type: 'string' },
    },
    strict: true,
  });
  const fromText = values.from ?? process.env.ORDER_DB_SHARDS_PREVIOUS;
  if (!fromText)
    throw new Error(
      '--from (or ORDER_DB_SHARDS_PREVIOUS) is required: the shard list before the change',
    );
  const from = parseShardUrls(fromText);
  // Through loadConfig: a default needing a secret infra:up has not generated fails in one line.
  const to =
    values.to === undefined
      ? loadConfig({ ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS) }).ORDER_DB_SHARDS
      : parseShardUrls(values.to);
  const tablesText = values.tables ?? process.env.ORDER_SHARDED_TABLES;
  if (!tablesText)
    throw new Error('--tables (or ORDER_SHARDED_TABLES) is required, e.g. orders:id');
  const tables = parseTables(tablesText);
  const batchSize = values.batch === undefined ? undefined : Number(values.batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new Error(`--batch must be a positive integer, got ${values.batch}`);
  }

  // One rebalance at a time: two runs towards different rings would move rows back and forth.
  // A batch job, not a request: a generous per-node timeout and the default retries (a few
  // seconds) ride out a loaded machine; a 30 s ttl leaves the validity almost untouched.
  const { REDIS_NODES } = loadConfig({ REDIS_NODES: sharedConfig('order').REDIS_NODES });
  const redlock = new Redlock(createRedlockClients(REDIS_NODES), { nodeTimeoutMs: 250 });
  try {
    const lockResource = values['lock-resource'] ?? REBALANCE_LOCK_RESOURCE;
    const report = await redlock.using([lockResource], LOCK_TTL_MS, (signal, lock) =>
      rebalance({
        from,
        to,
        tables,
        batchSize,
        signal,
        fence: lock.fence,
        lockResource,
        log: (line) => console.log(line),
      }),
    );
    console.log(JSON.stringify(report));
  } finally {
    await redlock.quit();
  }
}

main().catch((error: unknown) => {
  console.error(
    `shards:rebalance failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
});
