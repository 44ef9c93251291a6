import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { freePort } from '../support/service-process';

/** A mail as the catcher received it: parsed by mailparser, with what the SMTP session showed. */
export interface CaughtMail {
  parsed: ParsedMail;
  to: string;
  text: string;
  html: string;
  subject: string;
  messageId: string;
  /** The client upgraded to TLS (STARTTLS or implicit) before sending. */
  secure: boolean;
  /** The user the client authenticated as, if any. */
  user: string | undefined;
  receivedAt: number;
}

export interface CatcherOptions {
  /** Extra smtp-server options (TLS keys, AUTH, commands to disable). */
  server?: Partial<SMTPServerOptions>;
}

/**
 * A real SMTP server in the test process (smtp-server) that keeps every mail it accepts, parsed
 * with mailparser. `down()` closes the port (a server that is away), `refuse()` answers 451 (a
 * server that is there but will not take mail), `up()` serves again on the same port.
 */
export class MailCatcher {
  readonly mails: CaughtMail[] = [];
  /** Every MAIL FROM seen, refused or not (delivery attempts that reached the server). */
  readonly attempts: Array<{ at: number; refused: boolean }> = [];
  port = 0;
  private server: SMTPServer | undefined;
  private refusing = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: CatcherOptions = {}) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    await this.up();
    return this;
  }

  async up(): Promise<void> {
    const server = new SMTPServer({
      // Plain SMTP on loopback, as a developer's mail catcher; tests that want TLS or AUTH say so.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      ...this.options.server,
      onMailFrom: (_address, _session, callback) => {
        this.attempts.push({ at: Date.now(), refused: this.refusing });
        if (!this.refusing) return callback();
        const error = Object.assign(new Error('Try again later'), { responseCode: 451 });
        callback(error);
      },
      onData: (stream, session, callback) => {
        simpleParser(stream)
          .then((parsed) => {
            this.keep(parsed, session);
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.refusing = false;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  refuse(on = true): void {
    this.refusing = on;
  }

  stop(): Promise<void> {
    return this.down();
  }

  to(address: string): CaughtMail[] {
    return this.mails.filter((m) => m.to === address.toLowerCase());
  }

  /** Waits until `predicate` holds for the mails caught so far (or fails after `timeoutMs`). */
  async waitFor(predicate: (mails: CaughtMail[]) => boolean, timeoutMs = 10_000, what = 'mail'): Promise<CaughtMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.mails)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; caught: ${this.mails.map((m) => `${m.to} "${m.subject}"`).join(', ') || 'nothing'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.mails;
  }

  /** The next mail to `address` with this subject fragment, waiting for it. */
  async next(address: string, subject: RegExp, timeoutMs = 10_000): Promise<CaughtMail> {
    const seen = this.to(address).length;
    await this.waitFor(() => this.to(address).slice(seen).some((m) => subject.test(m.subject)), timeoutMs, `a mail to ${address} matching ${subject}`);
    return this.to(address).slice(seen).find((m) => subject.test(m.subject))!;
  }

  /** The latest mail to `address` matching `subject`, waiting for one if there is none yet. */
  async latest(address: string, subject: RegExp, timeoutMs = 10_000): Promise<CaughtMail> {
    await this.waitFor(() => this.to(address).some((m) => subject.test(m.subject)), timeoutMs, `a mail to ${address} matching ${subject}`);
    return this.to(address).filter((m) => subject.test(m.subject)).pop()!;
  }

  private keep(parsed: ParsedMail, session: SMTPServerSession): void {
    const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
    this.mails.push({
      parsed,
      to: (to?.value[0]?.address ?? '').toLowerCase(),
      text: parsed.text ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : '',
      subject: parsed.subject ?? '',
      messageId: parsed.messageId ?? '',
      secure: session.secure,
      user: session.user as string | undefined,
      receivedAt: Date.now(),
    });
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** The link of a link mail: the one line of its text part that is a URL with a token fragment. */
export function linkOf(mail: CaughtMail): string {
  const lines = mail.text.split(/\r?\n/).filter((line) => /^https?:\/\/\S+#token=[A-Za-z0-9_-]+$/.test(line.trim()));
  if (lines.length !== 1) throw new Error(`expected one link line in "${mail.subject}", found ${lines.length}:\n${mail.text}`);
  return lines[0].trim();
}

export function tokenOf(mail: CaughtMail): string {
  return new URL(linkOf(mail)).hash.replace(/^#token=/, '');
}
