import type { CoreConfig } from '../config/core-config';
import { appUrl, ConfigError, int, str, type Env } from '../config/parse';
import { loadTemplates, type MailTemplates } from './mail-templates';

/** Where mail goes: an SMTP server (SMTP_URL), or, outside production only, the console. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte (implicit TLS, port 465). */
  implicitTls: boolean;
  /** STARTTLS must succeed before anything is sent: every host but loopback. */
  requireTls: boolean;
  auth: { user: string; pass: string } | undefined;
}

export interface MailAddress {
  name: string | undefined;
  address: string;
}

export interface MailConfig {
  /** Unset outside production: mails are printed to the console instead of sent. */
  smtp: SmtpSettings | undefined;
  from: MailAddress;
  /** Base of every emailed link; unset outside production: the service's own address. */
  appUrl: string | undefined;
  templates: MailTemplates;
  /** How often each instance looks for due mail besides being woken by NOTIFY, ms. */
  pollMs: number;
  /** Delay before the first retry, seconds; later ones double up to MAX_RETRY_DELAY_SECONDS. */
  retryFirstSeconds: number;
}

const SMTP_DEFAULT_PORT = 587; // submission, STARTTLS
const SMTPS_DEFAULT_PORT = 465; // submissions, implicit TLS
const ADDRESS = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+$/;
const DEV_FROM: MailAddress = { name: 'Bouncer', address: 'no-reply@localhost' };

export function readMailConfig(env: Env, core: CoreConfig): MailConfig {
  const rawSmtp = str(env, 'SMTP_URL');
  const url = appUrl(env);
  const rawFrom = str(env, 'MAIL_FROM');
  if (core.isProduction) {
    // One line each, in this order: what a production start is missing.
    if (!rawSmtp) throw new ConfigError('SMTP_URL', 'is required in production (smtp://user:pass@host:587 or smtps://host:465)');
    if (!url) throw new ConfigError('APP_URL', 'is required in production (the base of every emailed link, e.g. https://app.example.com)');
    if (!rawFrom) throw new ConfigError('MAIL_FROM', 'is required in production (an address, or "Name <address>")');
  }
  const templatesDir = str(env, 'MAIL_TEMPLATES_DIR');
  return {
    smtp: rawSmtp ? parseSmtpUrl(rawSmtp) : undefined,
    from: rawFrom ? parseFrom(rawFrom) : DEV_FROM,
    appUrl: url?.toString().replace(/\/+$/, ''),
    templates: loadTemplates(templatesDir),
    pollMs: int(env, 'MAIL_POLL_MS', 1000, 100, 10_000),
    // CONTRACT.md: the first retry within 5 s; a shorter one only for impatient tests.
    retryFirstSeconds: int(env, 'MAIL_RETRY_FIRST_SECONDS', 5, 1, 5),
  };
}

export function parseSmtpUrl(raw: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('SMTP_URL', 'must be a URL like smtp://user:pass@host:587 or smtps://host:465');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError('SMTP_URL', `must use smtp:// or smtps://, got "${url.protocol}"`);
  if (!url.hostname) throw new ConfigError('SMTP_URL', 'names no host');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) throw new ConfigError('SMTP_URL', 'takes no path, query or fragment');
  const implicitTls = url.protocol === 'smtps:';
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw new ConfigError('SMTP_URL', 'has a user or password that is not valid percent-encoding');
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : implicitTls ? SMTPS_DEFAULT_PORT : SMTP_DEFAULT_PORT,
    implicitTls,
    requireTls: !implicitTls && !isLoopback(url.hostname),
    auth: user ? { user, pass } : undefined,
  };
}

/** Loopback by name or address: a mail server on this machine may be spoken to in plain text. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function parseFrom(raw: string): MailAddress {
  const named = /^(.*?)\s*<([^<>]+)>$/.exec(raw);
  const name = named ? named[1].replace(/^"(.*)"$/, '$1').trim() : undefined;
  const address = (named ? named[2] : raw).trim();
  if (!ADDRESS.test(address) || (name !== undefined && /[\r\n<>]/.test(name))) {
    throw new ConfigError('MAIL_FROM', 'must be an address (no-reply@example.com) or "Name <no-reply@example.com>"');
  }
  return { name: name || undefined, address };
}

