/**
 * `npm run bench:peers:check`: starts each peer system (BENCH_PEERS, all three by default) on
 * fresh databases, runs its flow check (peer-flow-check.ts: outcomes, compensation,
 * idempotency, conservation) and stops it. Exits non-zero on the first failure. `npm run
 * bench` runs the same check before measuring each peer.
 */
import { PEER_NAMES, type PeerName } from '../peers/src/topology.js';
import { BALANCE_CENTS, PRICE_CENTS, STOCK } from './fixtures.js';
import { checkPeerFlow } from './peer-flow-check.js';
import { PeerSystem, type PeerFixtures } from './peer-system.js';

const peers = (process.env.BENCH_PEERS?.split(',') ?? PEER_NAMES) as PeerName[];
const fixtures: PeerFixtures = {
  customers: ['bench-c0'],
  skus: ['bench-p0'],
  stock: STOCK,
  balanceCents: BALANCE_CENTS,
  priceCents: PRICE_CENTS,
};
for (const name of peers) {
  if (!PEER_NAMES.includes(name)) throw new Error(`BENCH_PEERS: unknown peer ${name}`);
  const started = Date.now();
  const system = await PeerSystem.start(name, fixtures);
  try {
    await checkPeerFlow(system, fixtures);
    process.stderr.write(`${name}: flow check passed (${Date.now() - started} ms with start-up)\n`);
  } finally {
    await system.stop();
  }
}
