import { createServer, type Server, type Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { openDataSource } from '../../src/app/database';
import { runMigrations } from '../../src/db/migrate';
import { Encryptor } from '../../src/crypto/encryption';
import { CleanupService } from '../../src/maintenance/cleanup.service';
import { OutboxQueue } from '../../src/mail/outbox-queue';
import { Outbox } from '../../src/mail/outbox.service';
import { registerAccount, uniqueEmail, type TestAccount } from '../support/accounts';
import { freePort } from '../support/service-process';
import type { TestServer } from '../support/test-server';
import { EMAIL_STATE, startMailingServer, SUBJECT, tokenOf } from '../email/email.helpers';
import { MailCatcher } from './mail-catcher';

/**
 * Delivery through the outbox with real instances of the service on one database and a real SMTP
 * server. Each test starts and stops its own instances: any running instance sends any due mail.
 */
let catcher: MailCatcher;
const running = new Set<TestServer>();
beforeAll(async () => {
  catcher = await new MailCatcher().start();
});
afterEach(async () => {
  for (const s of running) await s.stop();
  running.clear();
  await catcher.up().catch(() => undefined); // a test that left it down
});
afterAll(() => catcher.stop());

async function instance(overrides: Record<string, string> = {}): Promise<TestServer> {
  const s = await startMailingServer(catcher, { MAIL_RETRY_FIRST_SECONDS: '1', ...overrides });
  running.add(s);
  return s;
}
async function stop(s: TestServer): Promise<void> {
  running.delete(s);
  await s.stop();
}

let admin: DataSource;
beforeAll(async () => {
  admin = openDataSource({ url: process.env.TEST_DATABASE_URL!, poolSize: 4, connectTimeoutMs: 3000 });
  await admin.initialize();
  await runMigrations(admin);
});
afterAll(() => admin.destroy());
const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => admin.query(text, values);

interface Row {
  id: string;
  recipient: string;
  attempts: number;
  sent_at: Date | null;
  token_enc: string | null;
  last_error: string | null;
}
const rowsTo = (emails: string[]) => db<Row>('SELECT id, recipient, attempts, sent_at, token_enc, last_error FROM mail_outbox WHERE recipient = ANY($1)', [emails]);

test('SMTP down then up, with two instances: nothing lost, retries with growing delays, nothing sent twice', async () => {
  const [a, b] = [await instance(), await instance()];
  await catcher.down();
  // Requests never wait for SMTP, nor fail because it is down.
  const accounts: TestAccount[] = await Promise.all(Array.from({ length: 12 }, (_, i) => registerAccount(i % 2 ? a : b)));
  const emails = accounts.map((x) => x.email);

  // Watch every row's attempts while the server is away: when did each attempt start?
  const seen = new Map<string, number[]>();
  const deadline = Date.now() + 20_000;
  while (seen.size < 12 || [...seen.values()].some((times) => times.length < 3)) {
    if (Date.now() > deadline) throw new Error(`three attempts not seen in time: ${JSON.stringify([...seen.values()].map((t) => t.length))}`);
    for (const row of await rowsTo(emails)) {
      const times = seen.get(row.id) ?? [];
      while (times.length < row.attempts) times.push(Date.now());
      seen.set(row.id, times);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pending = await rowsTo(emails);
  expect(pending).toHaveLength(12);
  for (const row of pending) {
    expect(row.sent_at).toBeNull();
    expect(row.last_error).toMatch(/ECONNREFUSED/);
    const times = seen.get(row.id)!;
    expect(times.length).toBeGreaterThanOrEqual(3);
    const [first, second] = [times[1] - times[0], times[2] - times[1]];
    expect(first).toBeLessThanOrEqual(5_000 + 500); // CONTRACT.md: the first retry within 5 s
    expect(second).toBeGreaterThan(first * 1.4); // delays grow (1 s, then 2 s here)
  }

  await catcher.up();
  await catcher.waitFor(() => emails.every((e) => catcher.to(e).length > 0), 15_000, 'every verification mail');
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // a duplicate would arrive by now
  for (const email of emails) expect(catcher.to(email)).toHaveLength(1);
  const ids = catcher.mails.filter((m) => emails.includes(m.to)).map((m) => m.messageId);
  expect(new Set(ids).size).toBe(12);
  for (const row of await rowsTo(emails)) {
    expect(row.sent_at).not.toBeNull();
    expect(row.token_enc).toBeNull(); // erased once sent
  }
  // And the links work.
  const one = catcher.to(accounts[0].email)[0];
  expect((await a.gql(EMAIL_STATE, {}, accounts[0].accessToken)).data?.me.emailVerified).toBe(false);
  await a.gql('mutation($t: String!) { verifyEmail(token: $t) }', { t: tokenOf(one) });
  expect((await a.gql(EMAIL_STATE, {}, accounts[0].accessToken)).data?.me.emailVerified).toBe(true);
});

test('a server that refuses (451) only delays the mail: retried, then delivered once', async () => {
  await instance();
  catcher.refuse();
  const before = catcher.attempts.length;
  const account = await registerAccount([...running][0]);
  await waitUntil(async () => catcher.attempts.length - before >= 2, 10_000, 'two refused attempts');
  expect(catcher.to(account.email)).toEqual([]);
  catcher.refuse(false);
  await catcher.latest(account.email, SUBJECT.verify, 10_000);
  expect(catcher.to(account.email)).toHaveLength(1);
});

test('after a restart the outbox is resumed', async () => {
  const first = await instance();
  await catcher.down();
  const account = await registerAccount(first);
  await waitUntil(async () => (await rowsTo([account.email]))[0]?.attempts >= 1, 5_000, 'a failed first attempt');
  await stop(first); // nothing runs now; the mail waits in the database
  await catcher.up();
  await instance();
  const mail = await catcher.latest(account.email, SUBJECT.verify, 15_000);
  expect(tokenOf(mail)).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test('a request never waits for SMTP: a server that accepts and never answers holds no request up', async () => {
  const hanging = await silentServer();
  try {
    const s = await instance({ SMTP_URL: `smtp://127.0.0.1:${hanging.port}` });
    const account = await registerAccount(s);
    await waitUntil(async () => hanging.sockets.size > 0, 5_000, 'the sender to connect');
    // While the sender waits for a greeting that never comes, requests are answered.
    const [me, other] = await Promise.all([s.gql(EMAIL_STATE, {}, account.accessToken), registerAccount(s)]);
    expect(me.data?.me.id).toBe(account.id);
    expect(other.id).toBeTruthy();
    expect(hanging.sockets.size).toBeGreaterThan(0);
    expect((await rowsTo([account.email]))[0].sent_at).toBeNull();
  } finally {
    await hanging.close(); // resets the connections: the attempt fails now, not at the greeting timeout
  }
});

test('token readable from a database dump: no table holds a link token readable, before or after sending', async () => {
  const s = await instance();
  await catcher.down();
  const account = await registerAccount(s);
  await waitUntil(async () => (await rowsTo([account.email]))[0]?.attempts >= 1, 5_000, 'the mail to be waiting');
  const before = await dump();
  const [row] = await rowsTo([account.email]);
  expect(row.token_enc).toMatch(/^v1\./); // encrypted with ENCRYPTION_KEY
  await catcher.up();
  const token = tokenOf(await catcher.latest(account.email, SUBJECT.verify, 15_000));
  expect(before).not.toContain(token);
  expect(await dump()).not.toContain(token);
  expect((await rowsTo([account.email]))[0].token_enc).toBeNull();
  // The ciphertext opens only with the key and as the token of that very row.
  const keyed = new Encryptor(Buffer.alloc(32, 1));
  expect(() => keyed.decrypt(row.token_enc!, `mail_outbox:${row.id}`)).toThrow();
  expect(s.running.services.encryptor.decrypt(row.token_enc!, `mail_outbox:${row.id}`)).toBe(token);
  expect(() => s.running.services.encryptor.decrypt(row.token_enc!, 'mail_outbox:00000000-0000-4000-8000-000000000000')).toThrow();
});

test('several senders claiming at once: each mail goes to exactly one of them', async () => {
  const queues = [new OutboxQueue(admin, { batchSize: 7, leaseSeconds: 120 }), new OutboxQueue(admin, { batchSize: 7, leaseSeconds: 120 }), new OutboxQueue(admin, { batchSize: 7, leaseSeconds: 120 })];
  const outbox = new Outbox(new Encryptor(Buffer.alloc(32, 2)));
  const recipients = Array.from({ length: 40 }, () => uniqueEmail('claim'));
  await admin.transaction(async (m) => {
    for (const to of recipients) await outbox.enqueue(m, { kind: 'password_changed', to, userId: null });
  });
  try {
    const claimed: string[][] = queues.map(() => []);
    for (let round = 0; round < 5; round++) {
      const batches = await Promise.all(queues.map((q) => q.claim()));
      batches.forEach((batch, i) => claimed[i].push(...batch.filter((mail) => recipients.includes(mail.recipient)).map((mail) => mail.id)));
    }
    const all = claimed.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
    expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1); // they really competed
  } finally {
    await db('DELETE FROM mail_outbox WHERE recipient = ANY($1)', [recipients]);
  }
});

test('the cleanup job prunes sent mail past its retention and keeps the rest', async () => {
  const s = await instance();
  const [old, recent] = [await registerAccount(s), await registerAccount(s)];
  await catcher.latest(old.email, SUBJECT.verify);
  await catcher.latest(recent.email, SUBJECT.verify);
  await waitUntil(async () => (await rowsTo([old.email, recent.email])).every((r) => r.sent_at), 5_000, 'both recorded as sent');
  await catcher.down();
  const waiting = await registerAccount(s);
  await db(`UPDATE mail_outbox SET sent_at = now() - interval '8 days' WHERE recipient = $1`, [old.email]);
  await db(`UPDATE mail_outbox SET created_at = now() - interval '9 days' WHERE recipient = $1`, [waiting.email]);
  const removed = await s.running.container.get(CleanupService).runOnce();
  expect(removed?.mailOutbox).toBeGreaterThanOrEqual(1);
  expect((await rowsTo([old.email, recent.email, waiting.email])).map((r) => r.recipient).sort()).toEqual([recent.email, waiting.email].sort());
});

/** Every row of every table of the service, as text: what a stolen dump would show. */
async function dump(): Promise<string> {
  const tables = await db<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
  const parts = await Promise.all(tables.map((t) => db<{ row: string }>(`SELECT t::text AS row FROM "${t.tablename}" t`)));
  return parts.flat().map((p) => p.row).join('\n');
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP server that accepts connections and never says a word (a hung mail server). */
async function silentServer(): Promise<{ port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
