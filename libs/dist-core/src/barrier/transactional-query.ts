import type { EntityManager, QueryRunner } from 'typeorm';

/**
 * The query runner of the caller's open transaction. TCC code must never run outside one: a
 * manager without a transaction takes a pool connection per statement, so a marker row, the
 * business change and a savepoint would land on different connections and commit separately.
 */
export function transactionOf(manager: EntityManager, who: string): QueryRunner {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    throw new Error(`${who} must run inside a transaction (dataSource.transaction(...))`);
  }
  return runner;
}

/** Rows and affected-row count alike for SELECT, INSERT ... RETURNING and UPDATE. */
export async function runQuery<Row>(
  runner: QueryRunner,
  sql: string,
  params: unknown[] = [],
): Promise<{ rows: Row[]; count: number }> {
  const result = await runner.query(sql, params, true);
  return { rows: (result.records ?? []) as Row[], count: result.affected ?? 0 };
}
