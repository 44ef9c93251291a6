import type { Logger } from 'pino';
import type { MailRenderer } from './mail-renderer';
import type { MailTransport, OutgoingMessage } from './mail-transport';
import type { OutboxListener } from './outbox-listener';
import type { ClaimedMail, OutboxQueue } from './outbox-queue';
import { retryDelaySeconds } from './retry-schedule';

export interface MailSenderOptions {
  /** Base of the links: APP_URL, or this instance's own address once it listens. */
  appUrl: Promise<string>;
  /** Looks for due mail this often besides NOTIFY wake-ups (retries come due this way), ms. */
  pollMs: number;
  /** Rows claimed per round; they are sent concurrently. */
  batchSize: number;
  retryFirstSeconds: number;
}

/**
 * The background half of the outbox, one per instance: claims due mail (each row goes to one
 * instance), renders it, hands it to the transport and records the outcome. A request never waits
 * for any of this; a server that is down or refuses only delays the mail (retry-schedule.ts).
 */
export class MailSender {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private appUrl: string | undefined;
  /** Delivery attempts that failed since start (the outbox metrics read it). */
  deliveryFailures = 0;

  constructor(
    private readonly queue: OutboxQueue,
    private readonly renderer: MailRenderer,
    private readonly transport: MailTransport,
    private readonly listener: OutboxListener | undefined,
    private readonly logger: Logger,
    private readonly options: MailSenderOptions,
  ) {}

  /** Starts once the links' base is known (an instance that never listens never sends). */
  start(): void {
    void this.options.appUrl.then((url) => {
      if (this.stopped) return;
      this.appUrl = url;
      this.timer = setInterval(() => this.tick(), this.options.pollMs);
      this.timer.unref();
      this.tick();
    });
  }

  /** Sends whatever is due now (NOTIFY, the poll); a wake-up during a round runs another round after it. */
  wake(): void {
    if (this.stopped || !this.appUrl) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'mail outbox round failed'))
      .finally(() => {
        this.draining = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Lets the mail in flight finish (bounded by the SMTP timeouts), then closes the listener and transport. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.listener?.close();
    while (this.draining) await this.draining;
    this.transport.close();
  }

  private tick(): void {
    void this.listener?.ensure();
    this.wake();
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const batch = await this.queue.claim();
      // Settled, not all: one mail's database error must not leave the others' sends unwatched.
      for (const outcome of await Promise.allSettled(batch.map((mail) => this.deliver(mail)))) {
        if (outcome.status === 'rejected') this.logger.warn({ err: outcome.reason }, 'mail outcome not recorded: sent again once its lease ends');
      }
      if (batch.length < this.options.batchSize) return;
    }
  }

  private async deliver(mail: ClaimedMail): Promise<void> {
    let message: OutgoingMessage;
    try {
      message = this.renderer.render(mail, this.appUrl!);
    } catch (error) {
      this.deliveryFailures++;
      // No retry can fix a mail that cannot be rendered (its key retired, its kind unknown).
      this.logger.error({ err: error, mailId: mail.id, kind: mail.kind }, 'mail cannot be rendered: given up');
      await this.queue.failed(mail, `render: ${(error as Error).message}`, null);
      return;
    }
    try {
      await this.transport.send(message);
    } catch (error) {
      this.deliveryFailures++;
      const delay = retryDelaySeconds(mail.attempts, this.options.retryFirstSeconds);
      this.logger.warn({ mailId: mail.id, kind: mail.kind, attempt: mail.attempts, retryInSeconds: delay, error: describe(error) }, 'mail not sent: will retry');
      await this.queue.failed(mail, describe(error), delay);
      return;
    }
    await this.queue.sent(mail);
  }
}

/** What a transport error says, without the message body (nodemailer errors never hold it, but be sure). */
function describe(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown };
  return [e.code, e.responseCode, typeof e.message === 'string' ? e.message.split('\n')[0] : String(error)].filter((x) => x !== undefined).join(' ');
}
