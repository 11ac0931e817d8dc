import { Injectable } from '@nestjs/common';
import { PostgresDatabases } from '@app/dist-core/bootstrap';
import type { BusinessReason, FundsCommand } from '@app/order-flow-api';
import type { TryResult } from '@app/dist-core/barrier';
import type { DataSource, EntityManager, QueryResult } from 'typeorm';
import {
  accountFromRow,
  centsFromDb,
  MAX_ACCOUNT_TOTAL_CENTS,
  type Account,
  type AccountRow,
} from './account.js';

/** The three figures of an account; money only ever moves between them (or in, by a deposit). */
type Bucket = 'available_cents' | 'frozen_cents' | 'spent_cents';

type MovementState = 'FROZEN' | 'CAPTURED' | 'RELEASED' | 'CHARGED' | 'REFUNDED';

export type DepositResult =
  | { status: 'deposited'; account: Account }
  | { status: 'unknown-customer' }
  /** The account's total would pass MAX_ACCOUNT_TOTAL_CENTS. */
  | { status: 'over-cap' };

const ACCOUNT_COLUMNS = 'customer_id, available_cents, frozen_cents, spent_cents';

/**
 * Every rule about an account's money, in one place. Each change is one conditional UPDATE
 * (`… SET available = available − $a WHERE … AND available >= $a`): the row lock Postgres takes
 * for it serialises concurrent payments of one customer, and the condition is checked against
 * the latest committed figure, so no figure can go negative and no lock service (Redlock) is
 * needed: the database row is the only copy of the balance, and it is already atomic.
 *
 * The participant operations take the barrier's transaction (BarrierParticipant runs them):
 *   saga  charge   available → spent          refund    spent → available
 *   tcc   freeze   available → frozen         capture   frozen → spent
 *                                             unfreeze  frozen → available
 */
@Injectable()
export class AccountsLedger {
  private readonly dataSource: DataSource;

  constructor(databases: PostgresDatabases) {
    this.dataSource = databases.get('payment');
  }

  /** The new account, or null when the customer already has one. */
  async create(customerId: string, balanceCents: number): Promise<Account | null> {
    const rows = await rowsOf<AccountRow>(
      this.dataSource.manager,
      `INSERT INTO accounts (customer_id, available_cents) VALUES ($1, $2)
       ON CONFLICT (customer_id) DO NOTHING RETURNING ${ACCOUNT_COLUMNS}`,
      [customerId, balanceCents],
    );
    return rows.length === 1 ? accountFromRow(rows[0]) : null;
  }

  async deposit(customerId: string, amountCents: number): Promise<DepositResult> {
    const rows = await rowsOf<AccountRow>(
      this.dataSource.manager,
      `UPDATE accounts SET available_cents = available_cents + $2, updated_at = now()
       WHERE customer_id = $1 AND available_cents + frozen_cents + spent_cents + $2 <= $3
       RETURNING ${ACCOUNT_COLUMNS}`,
      [customerId, amountCents, MAX_ACCOUNT_TOTAL_CENTS],
    );
    if (rows.length === 1) return { status: 'deposited', account: accountFromRow(rows[0]) };
    return (await this.find(customerId)) ? { status: 'over-cap' } : { status: 'unknown-customer' };
  }

  async find(customerId: string): Promise<Account | null> {
    const rows = await rowsOf<AccountRow>(
      this.dataSource.manager,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE customer_id = $1`,
      [customerId],
    );
    return rows.length === 1 ? accountFromRow(rows[0]) : null;
  }

  /** Saga action: the order's amount is spent at once; the compensation is `refund`. */
  charge(manager: EntityManager, command: FundsCommand): Promise<TryResult> {
    return this.take(manager, command, 'spent_cents', 'CHARGED');
  }

  /** TCC Try: the amount is held until `capture` or `unfreeze`. */
  freeze(manager: EntityManager, command: FundsCommand): Promise<TryResult> {
    return this.take(manager, command, 'frozen_cents', 'FROZEN');
  }

  /** TCC Confirm. */
  capture(manager: EntityManager, command: FundsCommand): Promise<void> {
    return this.settle(manager, command, 'FROZEN', 'CAPTURED', 'frozen_cents', 'spent_cents');
  }

  /** TCC Cancel. */
  unfreeze(manager: EntityManager, command: FundsCommand): Promise<void> {
    return this.settle(manager, command, 'FROZEN', 'RELEASED', 'frozen_cents', 'available_cents');
  }

  /** Saga compensation of `charge`. */
  refund(manager: EntityManager, command: FundsCommand): Promise<void> {
    return this.settle(manager, command, 'CHARGED', 'REFUNDED', 'spent_cents', 'available_cents');
  }

  /**
   * Saga settlement of `charge`: the money is already spent, so nothing moves; the barrier's
   * confirm row, written with this, is what makes a later refund refused. Checked like the rest.
   */
  async keepCharge(manager: EntityManager, command: FundsCommand): Promise<void> {
    await this.recorded(manager, command, 'CHARGED');
  }

  /**
   * Moves the order's amount out of `available` and records the movement. A FAILURE is a business
   * answer; the barrier rolls back whatever the body wrote before returning it.
   */
  private async take(
    manager: EntityManager,
    { orderId, customerId, amountCents }: FundsCommand,
    to: Bucket,
    state: 'CHARGED' | 'FROZEN',
  ): Promise<TryResult> {
    if (!(await this.move(manager, customerId, amountCents, 'available_cents', to))) {
      return { outcome: 'FAILURE', reason: await this.whyNot(manager, customerId) };
    }
    await rowsOf(
      manager,
      `INSERT INTO payment_movements (order_id, customer_id, amount_cents, kind, state)
       VALUES ($1, $2, $3, $4, $5)`,
      [orderId, customerId, amountCents, state === 'CHARGED' ? 'CHARGE' : 'FREEZE', state],
    );
    return { outcome: 'SUCCESS' };
  }

  /**
   * Settles the amount the order's Try recorded, once: the movement's state changes by
   * compare-and-set, and only if the command names the Try's customer and amount; the money
   * moves in the same statement (one round trip on the usual path). When nothing moved, the
   * reason is looked up and thrown, and the caller's transaction rolls back whatever moved:
   * PaymentMismatchError for a command naming another customer or amount; otherwise, since the
   * barrier runs this only after a successful Try, corrupt data — a fault, thrown and retried.
   */
  private async settle(
    manager: EntityManager,
    command: FundsCommand,
    expected: MovementState,
    next: MovementState,
    from: Bucket,
    to: Bucket,
  ): Promise<void> {
    const { orderId, customerId, amountCents } = command;
    const moved = await rowsOf(
      manager,
      `WITH settled AS (
         UPDATE payment_movements SET state = $3, updated_at = now()
         WHERE order_id = $1 AND state = $2 AND customer_id = $4 AND amount_cents = $5
         RETURNING customer_id
       )
       UPDATE accounts SET ${from} = ${from} - $5, ${to} = ${to} + $5, updated_at = now()
       WHERE customer_id = (SELECT customer_id FROM settled) AND ${from} >= $5 RETURNING 1`,
      [orderId, expected, next, customerId, amountCents],
    );
    if (moved.length === 1) return;
    const [movement] = await rowsOf<{ state: MovementState }>(
      manager,
      'SELECT state FROM payment_movements WHERE order_id = $1',
      [orderId],
    );
    if (movement?.state === next) {
      throw new Error(
        `Order ${orderId}: account ${customerId} holds less than ${amountCents} in ${from}`,
      );
    }
    await this.recorded(manager, command, expected);
    throw new Error(`Order ${orderId}: payment not settled`);
  }

  /**
   * The order's movement in state `expected`, locked, after checking that `command` names the
   * same customer and amount as the Try that recorded it.
   */
  private async recorded(
    manager: EntityManager,
    { orderId, customerId, amountCents }: FundsCommand,
    expected: MovementState,
  ): Promise<void> {
    const rows = await rowsOf<{ customer_id: string; amount_cents: string }>(
      manager,
      `SELECT customer_id, amount_cents FROM payment_movements
       WHERE order_id = $1 AND state = $2 FOR UPDATE`,
      [orderId, expected],
    );
    if (rows.length !== 1) throw new Error(`Order ${orderId}: no ${expected} payment to settle`);
    const movement = rows[0];
    if (movement.customer_id !== customerId || centsFromDb(movement.amount_cents) !== amountCents) {
      throw new PaymentMismatchError(orderId);
    }
  }

  /** One conditional UPDATE: true when the money moved, false when `from` holds too little. */
  private async move(
    manager: EntityManager,
    customerId: string,
    amountCents: number,
    from: Bucket,
    to: Bucket,
  ): Promise<boolean> {
    const rows = await rowsOf(
      manager,
      `UPDATE accounts SET ${from} = ${from} - $2, ${to} = ${to} + $2, updated_at = now()
       WHERE customer_id = $1 AND ${from} >= $2 RETURNING 1`,
      [customerId, amountCents],
    );
    return rows.length === 1;
  }

  private async whyNot(manager: EntityManager, customerId: string): Promise<BusinessReason> {
    const rows = await rowsOf(manager, 'SELECT 1 FROM accounts WHERE customer_id = $1', [
      customerId,
    ]);
    return rows.length === 1 ? 'INSUFFICIENT_FUNDS' : 'UNKNOWN_CUSTOMER';
  }
}

/** A settlement naming another customer or amount than the Try it settles recorded. */
export class PaymentMismatchError extends Error {
  constructor(orderId: string) {
    super(`Order ${orderId}: the command's customer or amount differs from its Try's`);
    this.name = 'PaymentMismatchError';
  }
}

/**
 * The rows of any statement, UPDATE … RETURNING included (TypeORM's plain `query` answers an
 * UPDATE with `[rows, count]`), on the manager's transaction when it has one.
 */
async function rowsOf<Row = unknown>(
  manager: EntityManager,
  sql: string,
  params: unknown[],
): Promise<Row[]> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = (await runner.query(sql, params, true)) as QueryResult;
    return (result.records ?? []) as Row[];
  } finally {
    if (runner !== manager.queryRunner) await runner.release();
  }
}
