import { Client } from 'pg';
import type { Logger } from 'pino';
import { MAIL_CHANNEL } from './outbox.service';

/** A listener that lost its connection tries again this often at most (the poll covers the gap). */
const RECONNECT_INTERVAL_MS = 5_000;
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * LISTEN on a connection of its own (a pooled one would be handed to other work), so a committed
 * mail wakes the sender at once instead of at the next poll. Best effort: when the connection is
 * lost the poll still finds every mail, and `ensure` reconnects.
 */
export class OutboxListener {
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private lastAttempt = 0;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly onNotify: () => void,
    private readonly logger: Logger,
  ) {}

  /** Connects and listens unless already done (or tried too recently). */
  ensure(): Promise<void> {
    if (this.client || this.closed || Date.now() - this.lastAttempt < RECONNECT_INTERVAL_MS) return this.connecting ?? Promise.resolve();
    this.lastAttempt = Date.now();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'bouncer-mail-listener' });
    const drop = (): void => {
      if (this.client === client) this.client = undefined;
    };
    client.on('notification', () => this.onNotify());
    client.on('error', (error) => {
      this.logger.debug({ err: error }, 'mail listener connection lost; polling until it is back');
      drop();
    });
    client.on('end', drop);
    try {
      await client.connect();
      await client.query(`LISTEN ${MAIL_CHANNEL}`);
      if (this.closed) throw new Error('closed');
      this.client = client;
    } catch (error) {
      if (!this.closed) this.logger.debug({ err: error }, 'mail listener could not connect; polling');
      await client.end().catch(() => undefined);
    }
  }
}
