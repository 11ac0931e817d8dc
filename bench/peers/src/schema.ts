/**
 * The three databases of each peer system, with the tables and columns of this project's
 * services (apps/*\/src/**\/*.migrations.ts), trimmed to what the order flow touches, plus one
 * table the project spells differently: `step_log`, the per-order idempotency row of each
 * participant's Try (the project's barrier rows play that part).
 */
export const ORDER_SCHEMA = `
  CREATE TABLE orders (
    id           text PRIMARY KEY,
    customer_id  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'CANCELLED')),
    reason       text,
    items        jsonb NOT NULL,
    total_cents  bigint CHECK (total_cents >= 0),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK ((status = 'CANCELLED') = (reason IS NOT NULL))
  )`;

/** One row per Try an order ran (or was refused by its compensation first), with its answer. */
const STEP_LOG = `
  CREATE TABLE step_log (
    order_id  text  NOT NULL,
    step      text  NOT NULL,
    result    jsonb NOT NULL,
    PRIMARY KEY (order_id, step)
  )`;

export const INVENTORY_SCHEMA = [
  `CREATE TABLE products (
    sku          text        PRIMARY KEY,
    name         text        NOT NULL,
    price_cents  bigint      NOT NULL CHECK (price_cents >= 0),
    available    bigint      NOT NULL CHECK (available >= 0),
    reserved     bigint      NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sold         bigint      NOT NULL DEFAULT 0 CHECK (sold >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE reservations (
    order_id          text        NOT NULL,
    sku               text        NOT NULL REFERENCES products (sku),
    quantity          integer     NOT NULL CHECK (quantity > 0),
    unit_price_cents  bigint      NOT NULL CHECK (unit_price_cents >= 0),
    status            text        NOT NULL DEFAULT 'RESERVED'
                        CHECK (status IN ('RESERVED', 'SOLD', 'RELEASED')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    settled_at        timestamptz,
    PRIMARY KEY (order_id, sku)
  )`,
  STEP_LOG,
].join(';\n');

export const PAYMENT_SCHEMA = [
  `CREATE TABLE accounts (
    customer_id      text        PRIMARY KEY,
    available_cents  bigint      NOT NULL CHECK (available_cents >= 0),
    frozen_cents     bigint      NOT NULL DEFAULT 0 CHECK (frozen_cents >= 0),
    spent_cents      bigint      NOT NULL DEFAULT 0 CHECK (spent_cents >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE payment_movements (
    order_id      text        PRIMARY KEY,
    customer_id   text        NOT NULL REFERENCES accounts (customer_id),
    amount_cents  bigint      NOT NULL CHECK (amount_cents >= 0),
    kind          text        NOT NULL CHECK (kind IN ('FREEZE', 'CHARGE')),
    state         text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
  )`,
  'CREATE INDEX payment_movements_customer ON payment_movements (customer_id)',
  STEP_LOG,
].join(';\n');
