/**
 * Where the rest of an order's CPU goes: besides the three services (services.ts, readCpuMs),
 * the CPU used over the measured window by
 *   - Postgres: every process whose comm is `postgres` (postmaster, backends, checkpointer,
 *     WAL writer, …) together,
 *   - Kafka: the broker, the `java` process(es) whose cmdline holds `kafka.Kafka`,
 *   - the driver: this bench process itself (process.cpuUsage()), closed loop, completion
 *     poller, baseline writes and these /proc scans included,
 *   - the machine: all non-idle jiffies of /proc/stat (user + nice + system + irq + softirq +
 *     steal; guest time is already inside user), and the busy share of the window
 *     (non-idle ÷ (non-idle + idle + iowait)).
 * Each is divided by the orders completed in the window. The machine figure holds everything
 * (Redis, kernel threads, other users of a shared machine), so machine − services − Postgres −
 * Kafka − driver is what none of the named processes used (`restMsPerOrder`).
 *
 * Processes are read from /proc/<pid>/stat (utime + stime, in USER_HZ = 100 ticks/s) at the
 * window's start and end. Postgres backends come and go with connections: a pid seen only at
 * the end is counted from zero; a pid that exited inside the window is lost (its CPU is gone
 * from /proc with it), so the Postgres and Kafka figures are lower bounds, while the machine
 * figure has no such gap.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on (as in services.ts). */
const CLOCK_TICKS_PER_SECOND = 100;

/** One reading: cumulative ticks per pid of each group, the machine's jiffies, the driver's µs. */
export interface CpuSnapshot {
  postgres: Map<number, number>;
  kafka: Map<number, number>;
  machine: MachineJiffies;
  driverMicros: number;
}

export interface MachineJiffies {
  /** user + nice + system + irq + softirq + steal, summed over all CPUs. */
  nonIdle: number;
  /** nonIdle + idle + iowait. */
  total: number;
}

/** CPU ms per completed order over one window; null where nothing could be measured. */
export interface CpuBudget {
  postgresMsPerOrder: number | null;
  kafkaMsPerOrder: number | null;
  driverMsPerOrder: number;
  machineMsPerOrder: number | null;
  /** Non-idle share of all CPUs' time over the window, %. */
  machineBusyPercent: number | null;
  /**
   * Machine − services − Postgres − Kafka − driver: Redis, kernel threads, anything else on the
   * machine (idle services during baseline rows, other users of a shared machine).
   */
  restMsPerOrder: number | null;
}

/** comm, utime and stime (ticks) of a /proc/<pid>/stat line; null if it is not one. */
export function parsePidStat(stat: string): { comm: string; ticks: number } | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // After "pid (comm) ": state is field 3, utime and stime fields 14 and 15 (1-based).
  const fields = stat.slice(close + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) return null;
  return { comm: stat.slice(open + 1, close), ticks };
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseMachineStat(procStat: string): MachineJiffies {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  // user nice system idle iowait irq softirq steal guest guest_nice (missing ones read as 0).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
    .concat(Array(8).fill(0));
  const nonIdle = user + nice + system + irq + softirq + steal;
  return { nonIdle, total: nonIdle + idle + iowait };
}

/**
 * Ticks the group used between two readings, in ms. A pid only at the end started inside the
 * window: counted from zero. A pid whose ticks went down was reused by a new process: also
 * counted from zero. A pid only at the start exited: its last stretch is lost.
 */
export function groupDeltaMs(start: Map<number, number>, end: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, now] of end) {
    const before = start.get(pid) ?? 0;
    ticks += now >= before ? now - before : now;
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Reads /proc now. Off Linux (no /proc) the process groups are empty and the machine zero. */
export function takeCpuSnapshot(): CpuSnapshot {
  const snapshot: CpuSnapshot = {
    postgres: new Map(),
    kafka: new Map(),
    machine: { nonIdle: 0, total: 0 },
    driverMicros: 0,
  };
  try {
    snapshot.machine = parseMachineStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    // No /proc: nothing to add.
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    entries = [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let parsed: ReturnType<typeof parsePidStat>;
    try {
      parsed = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      continue; // Exited while we looked.
    }
    if (!parsed) continue;
    if (parsed.comm === 'postgres') {
      snapshot.postgres.set(pid, parsed.ticks);
    } else if (parsed.comm === 'java' && isKafkaBroker(pid)) {
      snapshot.kafka.set(pid, parsed.ticks);
    }
  }
  const driver = process.cpuUsage();
  snapshot.driverMicros = driver.user + driver.system;
  return snapshot;
}

function isKafkaBroker(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka');
  } catch {
    return false;
  }
}

// Two decimals: the baseline's figures are below 1 ms per order.
const perOrder = (ms: number, orders: number) => Math.round((ms / orders) * 100) / 100;

/**
 * The budget between two snapshots of one window; null without completed orders.
 * `servicesMs`: the CPU the services used in the same window (ms, all of them together), for
 * the rest; 0 when the row measures none (baseline rows, whose own process is the driver).
 */
export function cpuBudget(
  start: CpuSnapshot,
  end: CpuSnapshot,
  orders: number,
  servicesMs = 0,
): CpuBudget | null {
  if (orders <= 0) return null;
  const machineTicks = end.machine.nonIdle - start.machine.nonIdle;
  const totalTicks = end.machine.total - start.machine.total;
  // An empty group at both ends (not found, e.g. Postgres in a VM) is unknown, not zero.
  const group = (a: Map<number, number>, b: Map<number, number>) =>
    a.size === 0 && b.size === 0 ? null : perOrder(groupDeltaMs(a, b), orders);
  const postgresMs = groupDeltaMs(start.postgres, end.postgres);
  const kafkaMs = groupDeltaMs(start.kafka, end.kafka);
  const driverMs = (end.driverMicros - start.driverMicros) / 1000;
  const machineMs = totalTicks > 0 ? (machineTicks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  return {
    postgresMsPerOrder: group(start.postgres, end.postgres),
    kafkaMsPerOrder: group(start.kafka, end.kafka),
    driverMsPerOrder: perOrder(driverMs, orders),
    machineMsPerOrder: machineMs === null ? null : perOrder(machineMs, orders),
    machineBusyPercent: totalTicks > 0 ? Math.round((machineTicks / totalTicks) * 1000) / 10 : null,
    restMsPerOrder:
      machineMs === null
        ? null
        : perOrder(machineMs - servicesMs - postgresMs - kafkaMs - driverMs, orders),
  };
}
