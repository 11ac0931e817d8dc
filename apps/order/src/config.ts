import { DEFAULTS, env, sharedConfig, type ConfigOf, type EnvField } from '@app/dist-core/config';

/** `field`, or undefined when the variable is unset. */
function optional<T>(field: EnvField<T>): EnvField<T | undefined> {
  return { defaultText: '', parse: (text) => (text === '' ? undefined : field.parse(text)) };
}

/** The order service's configuration: CONTRACT.md variable names, validated at start. */
export const orderConfig = {
  ...sharedConfig('order'),
  ORDER_PORT: env.port(DEFAULTS.ORDER_PORT),
  ORDER_DB_SHARDS: env.postgresUrls(DEFAULTS.ORDER_DB_SHARDS),
  /**
   * Set only while shards are added or removed: the list before the change. Orders placed under
   * it are then read, and their flows carried on, on their previous owner until shards:rebalance
   * has moved them (libs/dist-core/src/sharding/README.md).
   */
  ORDER_DB_SHARDS_PREVIOUS: optional(env.postgresUrls('')),
  /**
   * How long one command (a saga step, a compensation, a TCC Confirm or Cancel) waits for its
   * reply before it is sent again. A forward saga step is sent at most 3 times. Re-sends only
   * help when a message was lost, which the outbox and the inbox make rare, while under load
   * each one adds work for a participant that is merely slow: so about half the flow timeout,
   * one re-send before the deadline, rather than many short ones.
   */
  ORDER_STEP_TIMEOUT_MS: env.integer(7_000, 1, 600_000),
  /**
   * From placing an order until a flow that has not got past its point of no return gives up
   * and compensates with reason TIMEOUT: the saga's deadline until it reaches confirmStock, the
   * TCC's deadline for its Trys. With the default, an order whose participants answer is
   * terminal within 30 s: 15 s of trying, then compensations that each take a round trip.
   */
  ORDER_FLOW_TIMEOUT_MS: env.integer(15_000, 1, 600_000),
  /** The issuer's client id of the /ui page (a public client: authorization code + PKCE). */
  AUTH_UI_CLIENT_ID: env.word('orders-ui'),
};

export type OrderConfig = ConfigOf<typeof orderConfig>;
