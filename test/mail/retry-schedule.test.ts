import { DataSource } from 'typeorm';
import { openDataSource } from '../../src/app/database';
import { runMigrations } from '../../src/db/migrate';
import { Encryptor } from '../../src/crypto/encryption';
import { readMailConfig } from '../../src/mail/mail.config';
import { OutboxQueue } from '../../src/mail/outbox-queue';
import { Outbox } from '../../src/mail/outbox.service';
import { MAX_RETRY_DELAY_SECONDS, RETRY_HORIZON_SECONDS, retryDelaySeconds } from '../../src/mail/retry-schedule';
import { readCoreConfig } from '../../src/config/core-config';
import { uniqueEmail } from '../support/accounts';

test('with the defaults: first retry after 5 s, each delay doubles, never above 10 minutes, retried for at least 24 hours', () => {
  const first = readMailConfig({}, readCoreConfig({})).retryFirstSeconds;
  const delays = Array.from({ length: 12 }, (_, i) => retryDelaySeconds(i + 1, first));
  expect(delays).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600, 600]);
  expect(MAX_RETRY_DELAY_SECONDS).toBe(600);
  expect(RETRY_HORIZON_SECONDS).toBeGreaterThanOrEqual(24 * 60 * 60);
});

describe('giving up', () => {
  let admin: DataSource;
  beforeAll(async () => {
    admin = openDataSource({ url: process.env.TEST_DATABASE_URL!, poolSize: 2, connectTimeoutMs: 3000 });
    await admin.initialize();
  await runMigrations(admin);
    await runMigrations(admin);
  });
  afterAll(() => admin.destroy());

  test('a mail still failing after the retry horizon is given up and its token erased; a younger one is retried', async () => {
    const outbox = new Outbox(new Encryptor(Buffer.alloc(32, 3)));
    const [old, young] = [uniqueEmail('old'), uniqueEmail('young')];
    await admin.transaction(async (m) => {
      for (const to of [old, young]) await outbox.enqueue(m, { kind: 'verify_email', to, userId: null, token: 'a'.repeat(43) });
    });
    try {
      await admin.query(`UPDATE mail_outbox SET created_at = now() - make_interval(secs => $2) WHERE recipient = $1`, [old, RETRY_HORIZON_SECONDS + 60]);
      // First in line, whatever other test files left due in this shared database.
      await admin.query(`UPDATE mail_outbox SET next_attempt_at = now() - interval '10 years' WHERE recipient = ANY($1)`, [[old, young]]);
      const queue = new OutboxQueue(admin, { batchSize: 100, leaseSeconds: 120 });
      const mine = (await queue.claim()).filter((mail) => [old, young].includes(mail.recipient));
      expect(mine).toHaveLength(2);
      for (const mail of mine) await queue.failed(mail, 'ECONNREFUSED', 600);
      const rows: Array<{ recipient: string; failed_at: Date | null; token_enc: string | null; last_error: string }> = await admin.query(
        'SELECT recipient, failed_at, token_enc, last_error FROM mail_outbox WHERE recipient = ANY($1)',
        [[old, young]],
      );
      const byRecipient = new Map(rows.map((r) => [r.recipient, r]));
      expect(byRecipient.get(old)).toMatchObject({ token_enc: null, last_error: 'ECONNREFUSED' });
      expect(byRecipient.get(old)!.failed_at).not.toBeNull();
      expect(byRecipient.get(young)!.failed_at).toBeNull();
      expect(byRecipient.get(young)!.token_enc).toMatch(/^v1\./);
    } finally {
      await admin.query('DELETE FROM mail_outbox WHERE recipient = ANY($1)', [[old, young]]);
    }
  });
});
