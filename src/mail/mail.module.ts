import { DataSource } from 'typeorm';
import { OutboxMetricsSource } from '../observability/metric-sources';
import { LoggerToken } from '../app/tokens';
import { ServiceOrigin } from '../app/service-origin';
import { Encryptor } from '../crypto/encryption';
import { defineModule } from '../module';
import { readMailConfig, type MailConfig } from './mail.config';
import { MailRenderer } from './mail-renderer';
import { MailSender } from './mail-sender';
import { consoleTransport, smtpTransport } from './mail-transport';
import { MailOutbox1733200000000 } from './migrations/1733200000000-mail-outbox';
import { MailOutboxEntity } from './outbox.entity';
import { OutboxListener } from './outbox-listener';
import { OutboxSecurityNotices } from './outbox-notices';
import { OutboxQueue } from './outbox-queue';
import { Outbox } from './outbox.service';
import { SecurityNoticesToken } from './security-notices';

/** Sent mail is kept this long (its token already erased), for an operator tracing a delivery. */
const SENT_RETENTION_SECONDS = 7 * 24 * 60 * 60;
/** Given-up mail is kept longer: someone may ask why a mail never came. */
const FAILED_RETENTION_SECONDS = 30 * 24 * 60 * 60;
const SEND_BATCH_SIZE = 10; // mails claimed (and sent concurrently) per round and instance
/** A claim keeps other instances off a row this long: far above the SMTP timeouts (50 s at most). */
const CLAIM_LEASE_SECONDS = 2 * 60;

/**
 * Mail: the transactional outbox, its background sender (SMTP through nodemailer, or the console
 * in development), the templates, and the SecurityNotices every later module queues notices with.
 * First in the module list, so that every other module can use it.
 */
export const mailModule = defineModule<MailConfig>({
  name: 'mail',
  readConfig: readMailConfig,
  entities: [MailOutboxEntity],
  migrations: [MailOutbox1733200000000],
  secretFields: ['tokenEnc', 'token_enc', 'link', 'pass', 'smtp'],
  cleanupJobs: () => [
    {
      name: 'mailOutbox',
      sql: `DELETE FROM mail_outbox WHERE id IN (
              SELECT id FROM mail_outbox
               WHERE sent_at < now() - make_interval(secs => $1) OR failed_at < now() - make_interval(secs => $2)
               LIMIT $3)`,
      params: [SENT_RETENTION_SECONDS, FAILED_RETENTION_SECONDS],
    },
  ],
  register(c, config) {
    const dataSource = c.get(DataSource);
    const logger = c.get(LoggerToken).child({ component: 'mail' });
    const outbox = c.set(Outbox, new Outbox(c.get(Encryptor)));
    c.set(SecurityNoticesToken, new OutboxSecurityNotices(outbox));
    const queue = c.set(OutboxQueue, new OutboxQueue(dataSource, { batchSize: SEND_BATCH_SIZE, leaseSeconds: CLAIM_LEASE_SECONDS }));
    const transport = config.smtp ? smtpTransport(config.smtp, config.from) : consoleTransport(logger);
    const databaseUrl = (dataSource.options as { url?: string }).url;
    let sender: MailSender | undefined = undefined;
    const listener = databaseUrl ? new OutboxListener(databaseUrl, () => sender?.wake(), logger) : undefined;
    sender = c.set(
      MailSender,
      new MailSender(queue, new MailRenderer(config.templates, c.get(Encryptor)), transport, listener, logger, {
        appUrl: config.appUrl ? Promise.resolve(config.appUrl) : c.get(ServiceOrigin).ready,
        pollMs: config.pollMs,
        batchSize: SEND_BATCH_SIZE,
        retryFirstSeconds: config.retryFirstSeconds,
      }),
    );
    // Read at each scrape when METRICS_PORT is set (CONTRACT.md: outbox depth and delivery failures);
    // a deployment (or a test) may supply its own source before the modules register.
    if (!c.has(OutboxMetricsSource)) c.set(OutboxMetricsSource, {
      depth: async () =>
        Number((await dataSource.query('SELECT count(*)::int AS n FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL'))[0]?.n ?? 0),
      deliveryFailures: () => sender!.deliveryFailures,
    });
  },
  start(c) {
    c.get(MailSender).start();
  },
  async stop(c) {
    await c.get(MailSender).stop();
  },
});
