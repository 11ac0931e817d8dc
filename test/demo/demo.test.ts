// `npm run demo` (scripts/demo.mjs) against the three built services on the real Kafka,
// Postgres and Redis: its table must show, for both strategies, the happy order COMPLETED, the
// out-of-stock one CANCELLED OUT_OF_STOCK and the too-poor one CANCELLED INSUFFICIENT_FUNDS,
// as the order service reports them. Without the services it must say how to start them.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, TEST_PORTS, type RunningService } from '../support/services.js';

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(env: Record<string, string>): Promise<DemoRun> {
  const child = spawn(process.execPath, ['scripts/demo.mjs'], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A port the system chose as free, closed again: nothing answers there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The table's rows (`| a | b |` lines, without the header and the rule), as cell arrays. */
function tableRows(stdout: string): Record<string, string>[] {
  const lines = stdout.split('\n').filter((line) => line.startsWith('| '));
  const cells = (line: string) =>
    line
      .slice(2, -2)
      .split(' | ')
      .map((cell) => cell.trim());
  const [header, ...rows] = lines.map(cells);
  return rows.map((row) => Object.fromEntries(header.map((title, i) => [title, row[i]])));
}

describe('npm run demo', () => {
  let order: RunningService;
  let payment: RunningService;
  let inventory: RunningService;

  const URLS = {
    ORDER_URL: `http://127.0.0.1:${TEST_PORTS.order}`,
    PAYMENT_URL: `http://127.0.0.1:${TEST_PORTS.payment}`,
    INVENTORY_URL: `http://127.0.0.1:${TEST_PORTS.inventory}`,
  };

  beforeAll(async () => {
    order = startService('order');
    payment = startService('payment');
    inventory = startService('inventory');
    // Generous: on a loaded 2-core machine a start-up has been seen to take over 60 s.
    await Promise.all([order, payment, inventory].map((s) => s.waitForHealth(200, 100_000)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([order, payment, inventory].map((s) => s?.stop()));
  });

  it('prints one row per strategy and case, with the outcome the order service reports', async () => {
    const demo = await runDemo(URLS);
    console.log(demo.stdout);
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);

    const rows = tableRows(demo.stdout);
    const outcomes = rows.map((row) => `${row.strategy} ${row.case} ${row.status} ${row.reason}`);
    expect(outcomes.sort()).toEqual([
      '2pc happy COMPLETED -',
      '2pc out-of-stock CANCELLED OUT_OF_STOCK',
      '2pc too-poor CANCELLED INSUFFICIENT_FUNDS',
      'saga happy COMPLETED -',
      'saga out-of-stock CANCELLED OUT_OF_STOCK',
      'saga too-poor CANCELLED INSUFFICIENT_FUNDS',
      'tcc happy COMPLETED -',
      'tcc out-of-stock CANCELLED OUT_OF_STOCK',
      'tcc too-poor CANCELLED INSUFFICIENT_FUNDS',
    ]);

    // Every row is the order as the API has it, and links to its timeline.
    for (const row of rows) {
      expect(row['order id']).toMatch(/^[1-9][0-9]{0,18}$/);
      const response = await order.fetch(`/orders/${row['order id']}`);
      const stored = (await response.json()) as {
        strategy: string;
        status: string;
        reason: string | null;
        totalCents: number | null;
      };
      expect(stored.strategy).toBe(row.strategy);
      expect(stored.status).toBe(row.status);
      expect(stored.reason ?? '-').toBe(row.reason);
      expect(row.total).toBe(
        stored.totalCents === null ? '-' : (stored.totalCents / 100).toFixed(2),
      );
      expect(Number(row.ms)).toBeGreaterThanOrEqual(0);
      expect(row['as expected']).toBe('yes');
      expect(demo.stdout).toContain(`${URLS.ORDER_URL}/ui?order=${row['order id']}`);
    }
    // Two bags of coffee at 12.50.
    expect(rows.filter((row) => row.case === 'happy').map((row) => row.total)).toEqual([
      '25.00',
      '25.00',
    ]);
    for (const url of [
      `${URLS.ORDER_URL}/ui`,
      `${URLS.ORDER_URL}/docs`,
      `${URLS.ORDER_URL}/health`,
    ]) {
      expect(demo.stdout).toContain(url);
    }
  });

  it('says how to start the system, and exits 1, when a service is not up', async () => {
    const closed = await closedPort();
    const demo = await runDemo({ ...URLS, PAYMENT_URL: `http://127.0.0.1:${closed}` });
    expect(demo.code).toBe(1);
    expect(demo.stderr).toContain(`payment (http://127.0.0.1:${closed}/health)`);
    expect(demo.stderr).toContain('npm run infra:up && npm run build && npm run start:all');
    expect(demo.stdout).toBe('');
  });
});
