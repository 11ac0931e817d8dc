// The admin principal of the native broker, for the infra scripts (kafka-ready.mjs,
// kafka-access.mjs). Its password comes from KAFKA_ADMIN_PASSWORD, which kafka.sh sets from the
// local secret `kafka-admin` (and docker compose from its environment): an environment
// variable, never a command-line argument that `ps` would show to every user of the machine.
import { Kafka, logLevel } from 'kafkajs';

export const ADMIN_USERNAME = 'admin';

/** `--name value` from the command line, or `fallback`. */
export function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

/** A kafkajs client that signs in as admin with SASL/SCRAM-SHA-512. */
export function adminKafka(clientId, brokers, options = {}) {
  const password = process.env.KAFKA_ADMIN_PASSWORD;
  if (!password) {
    console.error(
      `${clientId}: KAFKA_ADMIN_PASSWORD is not set (kafka.sh sets it from the local secret kafka-admin)`,
    );
    process.exit(2);
  }
  return new Kafka({
    clientId,
    brokers,
    sasl: { mechanism: 'scram-sha-512', username: ADMIN_USERNAME, password },
    logLevel: logLevel.NOTHING,
    ...options,
  });
}
