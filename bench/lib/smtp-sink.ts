import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { forkChild, type ForkedChild } from './child';
import { cleanEnv } from './servers';

const SINK_SCRIPT = join(__dirname, '..', 'servers', 'smtp-sink.js');
const TOKEN_IN_LINK = /#token=([A-Za-z0-9_-]+)/;
/** How long mails may take to arrive: a base, plus per mail (a sender working through a backlog). */
const WAIT_BASE_MS = 30_000;
const WAIT_PER_MAIL_MS = 50;

export interface SinkStats {
  /** Mails received since the last reset. */
  received: number;
  bytes: number;
  /** SMTP connections made since the last reset, and the most open at once. */
  connections: number;
  maxOpen: number;
}

/** The local SMTP server every mail of the email and outbox sections goes to (bench/servers/smtp-sink.ts). */
export class SmtpSink {
  private constructor(
    readonly child: ForkedChild,
    readonly port: number,
  ) {}

  static async start(): Promise<SmtpSink> {
    const { child, ready } = await forkChild({ name: 'smtp sink', script: SINK_SCRIPT, env: cleanEnv({}), ready: /smtp sink ready on port (\d+)/ });
    return new SmtpSink(child, Number(ready));
  }

  /** SMTP_URL for a sender: plain SMTP, which the service allows on loopback only. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async reset(): Promise<void> {
    await this.child.call('sink:reset');
  }

  stats(): Promise<SinkStats> {
    return this.child.call<SinkStats & { id: number }>('sink:stats');
  }

  /**
   * Waits until `count` mails to recipients starting with `prefix` arrived since the last reset;
   * the arrival time (Date.now()) of the one that made the count.
   */
  async waitFor(count: number, prefix: string, timeoutMs = WAIT_BASE_MS + count * WAIT_PER_MAIL_MS): Promise<number> {
    const { at } = await this.child.call<{ at: number }>('sink:wait', { count, prefix, timeoutMs }, timeoutMs + 5_000);
    return at;
  }

  /** Mails since the last reset to recipients whose address starts with `prefix`. */
  async countTo(prefix: string): Promise<number> {
    return (await this.child.call<{ count: number }>('sink:count', { prefix })).count;
  }

  /** The token in the link of the latest mail to `to` (parsed the way a mail client would), with its subject. */
  async linkTokenTo(to: string): Promise<{ token: string; subject: string }> {
    const { raw } = await this.child.call<{ raw: string | null }>('sink:raw', { to });
    if (!raw) throw new Error(`no mail to ${to} reached the SMTP sink`);
    const mail = await simpleParser(raw);
    const token = TOKEN_IN_LINK.exec(mail.text ?? '')?.[1];
    if (!token) throw new Error(`the mail to ${to} ("${mail.subject}") has no link with a token`);
    return { token, subject: mail.subject ?? '' };
  }

  /** Polls until a mail to `to` arrived (checks through the API: a mail goes out a moment after its request). */
  async linkTokenWhenThere(to: string, timeoutMs = 15_000): Promise<{ token: string; subject: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.linkTokenTo(to);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}
