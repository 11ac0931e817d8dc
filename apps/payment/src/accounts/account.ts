/** CONTRACT.md: a customer id is 1–64 characters of [A-Za-z0-9._-] (the accounts table checks it too). */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const CUSTOMER_ID_RULE = '1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';

/** One request moves at most 10^12 cents (ten billion in the currency): a typo, not a payment. */
export const MAX_REQUEST_CENTS = 1_000_000_000_000;

/**
 * An account's available + frozen + spent never exceeds 2^53 − 1, so each figure is an exact JS
 * number. Moving money between the three keeps the total, so only a deposit can reach the cap.
 */
export const MAX_ACCOUNT_TOTAL_CENTS = Number.MAX_SAFE_INTEGER;

/** CONTRACT.md's account: available + frozen + spent = balance created + deposits. */
export interface Account {
  customerId: string;
  availableCents: number;
  frozenCents: number;
  spentCents: number;
}

/** An accounts row as pg returns it: bigint columns arrive as decimal strings. */
export interface AccountRow {
  customer_id: string;
  available_cents: string;
  frozen_cents: string;
  spent_cents: string;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    customerId: row.customer_id,
    availableCents: centsFromDb(row.available_cents),
    frozenCents: centsFromDb(row.frozen_cents),
    spentCents: centsFromDb(row.spent_cents),
  };
}

/** A bigint column to a number, refusing (rather than rounding) one that is not exact in JS. */
export function centsFromDb(value: string): number {
  const cents = Number(value);
  if (!Number.isSafeInteger(cents) || cents < 0) {
    throw new Error(`A stored amount of ${value} cents is not a non-negative safe integer`);
  }
  return cents;
}
