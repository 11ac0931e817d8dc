import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { redactUrl } from '../config/index.js';
import { inboxMigrations, inboxRetention } from '../inbox/index.js';
import { outboxMigrations, outboxRetention } from '../outbox/index.js';
import type { RetentionRule } from '../retention/index.js';
import { waitFor } from './wait-for.js';

/**
 * The advisory lock key every instance of every service takes before migrating a database
 * (any 64-bit number the application uses for nothing else).
 */
const MIGRATION_LOCK_KEY = '7203528870043811969';

/**
 * Runs the pending migrations with a session-level advisory lock held: replicas starting
 * together (a rollout, `docker compose up --scale`) would otherwise each see the same pending
 * migrations and run them at once. One migrates; the others wait on the lock, then find
 * nothing pending. The lock is on its own connection, so it goes if the process dies.
 */
async function migrateUnderLock(source: DataSource): Promise<void> {
  const lock = source.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await source.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}

/** One Postgres database a service uses: a shard of the orders, or its own database. */
export interface PostgresTarget {
  /** Stable name, used in health keys and logs: `orders_0`, `payment`. */
  name: string;
  url: string;
  entities?: DataSourceOptions['entities'];
  migrations?: (new () => MigrationInterface)[];
  /** How its own tables' old rows are purged (the outbox's and inbox's are added). */
  retention?: RetentionRule[];
}

export interface PostgresOptions {
  /** Connections per database per process; shards × pool × processes must fit Postgres' 100. */
  poolSize: number;
  /** How long start-up waits for a database that does not answer yet. */
  startupTimeoutMs: number;
}

/** The TypeORM DataSources of one service, opened at start and closed at shutdown. */
export class PostgresDatabases {
  private readonly sources = new Map<string, DataSource>();

  constructor(
    private readonly targets: PostgresTarget[],
    private readonly options: PostgresOptions,
  ) {
    for (const target of targets) {
      this.sources.set(
        target.name,
        new DataSource({
          type: 'postgres',
          url: target.url,
          entities: target.entities ?? [],
          // Every database of every service has its outbox and inbox beside its own tables.
          migrations: [...outboxMigrations, ...inboxMigrations, ...(target.migrations ?? [])],
          migrationsRun: false,
          extra: { max: options.poolSize, connectionTimeoutMillis: 3000 },
        }),
      );
    }
  }

  get(name: string): DataSource {
    const source = this.sources.get(name);
    if (!source) throw new Error(`No database named ${name}`);
    return source;
  }

  all(): { name: string; dataSource: DataSource; retention: RetentionRule[] }[] {
    return this.targets.map(({ name, retention }) => ({
      name,
      dataSource: this.get(name),
      retention: [outboxRetention, inboxRetention, ...(retention ?? [])],
    }));
  }

  /**
   * Opens every database and runs its migrations, waiting for a database that does not answer
   * yet (a service may start before Postgres does, as in docker compose or after a crash).
   */
  async initialize(): Promise<void> {
    await Promise.all(this.targets.map((target) => this.open(target)));
  }

  private async open(target: PostgresTarget): Promise<void> {
    const source = this.get(target.name);
    await waitFor(redactUrl(target.url), this.options.startupTimeoutMs, async () => {
      if (!source.isInitialized) await source.initialize();
      await migrateUnderLock(source);
    });
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.sources.values()].filter((s) => s.isInitialized).map((s) => s.destroy()),
    );
  }
}
