import { DataSource } from 'typeorm';
import { freshTestSchema, testDatabaseUrl } from './test-database.js';
import { inboxMigrations } from '@app/dist-core/inbox';
import { outboxMigrations } from '@app/dist-core/outbox';

/** The messaging tests' own database; each test file works in its own schema of it. */
export const TEST_DATABASE = 'test_messaging';

/**
 * A DataSource on a fresh schema (dropped and recreated) with the outbox and inbox tables,
 * so test files running in parallel never see each other's rows.
 */
export async function openSchema(schema: string, poolSize = 3): Promise<DataSource> {
  await freshTestSchema(TEST_DATABASE, schema);
  const dataSource = schemaDataSource(schema, poolSize);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/** Another pool on the same schema (a second process's, say). */
export function schemaDataSource(schema: string, poolSize = 3): DataSource {
  return new DataSource({
    type: 'postgres',
    url: testDatabaseUrl(TEST_DATABASE),
    schema,
    migrations: [...outboxMigrations, ...inboxMigrations],
    extra: { max: poolSize, options: `-c search_path=${schema}` },
  });
}
