import type { Logger } from '@nestjs/common';
import pg from 'pg';
import { OUTBOX_CHANNEL } from './outbox.js';

const RECONNECT_DELAY_MS = 1000;

/**
 * `LISTEN outbox` on a dedicated connection (a pooled one would be handed to other queries),
 * reconnecting whenever it drops. Notifications only make the relay faster: while the
 * connection is down the relay still polls, so nothing waits longer than a poll interval.
 */
export class OutboxNotifications {
  private client?: pg.Client;
  private reconnectTimer?: NodeJS.Timeout;
  private stopped = true;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onNotify: () => void,
    private readonly log: Logger,
  ) {}

  /** True while the LISTEN connection is up: every commit's NOTIFY reaches us. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client(this.config);
    let dropped = false;
    const drop = (error?: Error): void => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn(`LISTEN connection lost (${error?.message ?? 'closed'}); reconnecting`);
      this.reconnectTimer = setTimeout(() => void this.connect(), RECONNECT_DELAY_MS);
    };
    client.on('notification', () => this.onNotify());
    client.on('error', drop);
    client.on('end', () => drop());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (this.stopped) return drop();
      this.client = client;
      // Rows committed while nobody listened announced themselves to no one: look now.
      this.onNotify();
    } catch (error) {
      drop(error as Error);
    }
  }
}
