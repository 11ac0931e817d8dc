/**
 * Where each peer system lives: its databases (`bench_<system>_<service>` on the machine's
 * Postgres) and its ports (BENCH_PEERS_PORT_BASE, 3200 by default: clear of the project's
 * 3000-3004 and 3100-3102). The driver passes these to the processes it starts as environment
 * variables; the services read nothing else.
 */
export type PeerName = 'direct' | 'dbos' | 'restate';
export const PEER_NAMES: PeerName[] = ['direct', 'dbos', 'restate'];

export type PeerService = 'order' | 'inventory' | 'payment';

export interface PeerTopology {
  name: PeerName;
  databases: Record<PeerService, string>;
  ports: Record<PeerService, number>;
  /** Restate only: the restate-server's ingress, admin and node-to-node ports. */
  restateServer?: { ingress: number; admin: number; node: number };
}

/** Postgres as a superuser who may create databases; trust auth on 127.0.0.1 by default. */
export const PEERS_POSTGRES_URL =
  process.env.BENCH_PEERS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(database: string): string {
  const url = new URL(PEERS_POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export function peerTopology(name: PeerName): PeerTopology {
  const base = Number(process.env.BENCH_PEERS_PORT_BASE ?? 3200) + PEER_NAMES.indexOf(name) * 10;
  const databases = {
    order: `bench_${name}_order`,
    inventory: `bench_${name}_inventory`,
    payment: `bench_${name}_payment`,
  };
  return {
    name,
    databases,
    ports: { order: base, inventory: base + 1, payment: base + 2 },
    restateServer:
      name === 'restate' ? { node: base + 7, ingress: base + 8, admin: base + 9 } : undefined,
  };
}

/** Connections per pool of each peer service, as the project's services (PostgresDatabases). */
export const PEER_POOL_SIZE = Number(process.env.BENCH_PEERS_POOL ?? 5);
