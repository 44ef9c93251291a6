import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { Logger } from 'pino';
import type { MailAddress, SmtpSettings } from './mail.config';

/** A rendered mail, ready to hand to a server. `id` is the outbox row's: it becomes the Message-ID. */
export interface OutgoingMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** Resolves once the server accepted the mail; rejects when it is down or refuses. */
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

// Well under the outbox lease (MAIL_LEASE_SECONDS): a hung server fails the attempt long before
// another instance may take the mail over.
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;

/** nodemailer's options for SMTP_URL: plain only on loopback, STARTTLS required elsewhere, implicit TLS for smtps://. */
export function smtpTransportOptions(smtp: SmtpSettings): SMTPTransport.Options {
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.implicitTls,
    // STARTTLS whenever offered; required (no plain fallback) off loopback. Certificates are verified.
    requireTLS: smtp.requireTls,
    ignoreTLS: false,
    opportunisticTLS: false,
    tls: { minVersion: 'TLSv1.2' },
    auth: smtp.auth ? { user: smtp.auth.user, pass: smtp.auth.pass } : undefined,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Mail bodies are our templates: nothing in them may make nodemailer read files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
}

/** Message-ID from the outbox row: a resend after a crash carries the same id, so mail clients can drop the copy. */
function messageId(id: string, from: MailAddress): string {
  return `<${id}@${from.address.split('@')[1]}>`;
}

/**
 * SMTP connections kept open per instance: the sender hands over a batch of mails at once (its
 * claim size), and a connection per mail spent most of each send on TCP, TLS and the greeting
 * (the bench's outbox row: ~0.1 x a pooled nodemailer before, see README Performance).
 */
export const SMTP_POOL_CONNECTIONS = 5;
/** Mails per pooled connection before it is replaced: some servers cap a session's messages. */
const SMTP_MESSAGES_PER_CONNECTION = 100;

export function smtpTransport(smtp: SmtpSettings, from: MailAddress, extra: Partial<SMTPPool.Options> = {}): MailTransport {
  const transporter = nodemailer.createTransport({
    ...smtpTransportOptions(smtp),
    pool: true,
    maxConnections: SMTP_POOL_CONNECTIONS,
    maxMessages: SMTP_MESSAGES_PER_CONNECTION,
    ...extra,
  } satisfies SMTPPool.Options);
  return {
    async send(message) {
      await transporter.sendMail({
        from: { name: from.name ?? '', address: from.address },
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: messageId(message.id, from),
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    },
    close: () => transporter.close(),
  };
}

/**
 * Development without SMTP_URL (never production: the config refuses it): each mail's text part,
 * link included, is printed to the console so a developer can follow it without any setup.
 */
export function consoleTransport(logger: Logger, print: (text: string) => void = (text) => process.stdout.write(text)): MailTransport {
  return {
    async send(message) {
      if (!logger.isLevelEnabled('info')) return;
      print(`\n--- mail to ${message.to} (SMTP_URL is unset: printed here instead of sent) ---\nSubject: ${message.subject}\n\n${message.text.trimEnd()}\n--- end of mail ---\n`);
    },
    close: () => undefined,
  };
}
