import type { EntityManager } from 'typeorm';
import { Encryptor } from '../../src/crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../../src/crypto/random';
import { TOKEN_LIFETIMES } from '../../src/email/email-tokens';
import type { LinkMailKind } from '../../src/mail/mail-kinds';
import { Outbox } from '../../src/mail/outbox.service';
import type { BenchContext } from './context';
import { BenchDb } from './seed';
import { startService, type BenchServer } from './servers';
import { SmtpSink } from './smtp-sink';

export const REQUEST_RESET_MUTATION = 'mutation RequestReset($email: String!) { requestPasswordReset(email: $email) }';
export const VERIFY_EMAIL_MUTATION = 'mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }';
export const RESET_PASSWORD_MUTATION = 'mutation ResetPassword($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }';

/** A new password the policy takes (long, not common, no part of a bench address in it); distinct per `n`. */
export const newPassword = (n: number): string => `Amber-kettle-meadow-${n}`;

/** A seeded account and the token of a link mailed to it. */
export interface SeededLink {
  userId: string;
  email: string;
  token: string;
}

export interface SeededAccount {
  userId: string;
  email: string;
}

/** Accounts <prefix>1..<prefix><count>@bench.test (seeded), with their ids. */
export async function seedAccounts(db: BenchDb, prefix: string, count: number, hash: string): Promise<SeededAccount[]> {
  await db.seedUsers(1, count, hash, prefix);
  const rows = await db.query<{ id: string; email: string }>(`SELECT id, email FROM users WHERE email ~ ('^' || $1 || '[0-9]+@bench\\.test$')`, [prefix]);
  return rows.map((r) => ({ userId: r.id, email: r.email }));
}

/**
 * Accounts <prefix>1..<prefix><count> with one live link token each, written the way EmailTokens.send
 * stores one (src/email/email-tokens.ts): only the token's SHA-256, the kind, the address it went
 * to, the kind's lifetime. Its mail is taken as sent (a sent mail keeps no token in the outbox).
 * One token per account: a password reset retires every other live token of its account.
 */
export async function seedLinks(db: BenchDb, kind: LinkMailKind, prefix: string, count: number, hash: string): Promise<SeededLink[]> {
  const accounts = await seedAccounts(db, prefix, count, hash);
  const tokens = accounts.map(() => newOpaqueToken());
  await db.query(
    `INSERT INTO email_tokens (user_id, kind, token_hash, email, expires_at)
     SELECT x.id, $3, x.h, x.email, now() + make_interval(secs => $4) FROM unnest($1::uuid[], $2::text[], $5::text[]) AS x(id, h, email)`,
    [accounts.map((a) => a.userId), tokens.map((t) => sha256Hex(t)), kind, TOKEN_LIFETIMES[kind].seconds, accounts.map((a) => a.email)],
  );
  return accounts.map((a, i) => ({ ...a, token: tokens[i] }));
}

/**
 * Fails unless the stored row of a token the API made (and mailed) is what seedLinks writes: the
 * same kind, address, hash of the token and lifetime.
 */
export async function checkStoredLikeSeeded(db: BenchDb, kind: LinkMailKind, email: string, token: string): Promise<void> {
  const [row] = await db.query<{ kind: string; email: string; token_hash: string; life: number }>(
    `SELECT t.kind, t.email, t.token_hash, extract(epoch FROM t.expires_at - t.created_at)::float8 AS life
       FROM email_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1 AND t.kind = $2 ORDER BY t.created_at DESC LIMIT 1`,
    [email, kind],
  );
  const lifetime = TOKEN_LIFETIMES[kind].seconds;
  if (!row || row.token_hash !== sha256Hex(token) || row.email !== email || Math.abs(row.life - lifetime) > 1) {
    throw new Error(`the ${kind} token the API mailed to ${email} is not stored the way the bench seeds them: ${JSON.stringify(row)}`);
  }
}

/**
 * Queues a reset-link mail for each account in one transaction, through the service's own
 * Outbox.enqueue (src/mail/outbox.service.ts: the row, its token encrypted for that row, the
 * NOTIFY that wakes the senders at commit). `beforeCommit` runs right before the COMMIT; returns
 * Date.now() taken then.
 */
export async function enqueueResetMails(db: BenchDb, encryptionKeyBase64: string, accounts: SeededAccount[], beforeCommit?: () => void): Promise<number> {
  const outbox = new Outbox(new Encryptor(Buffer.from(encryptionKeyBase64, 'base64')));
  const m = { query: (text: string, values: unknown[]) => db.query(text, values) } as unknown as EntityManager;
  await db.query('BEGIN');
  try {
    for (const a of accounts) {
      await outbox.enqueue(m, { kind: 'reset_password', to: a.email, userId: a.userId, token: newOpaqueToken(), data: { expiresIn: TOKEN_LIFETIMES.reset_password.words } });
    }
    beforeCommit?.();
    const at = Date.now();
    await db.query('COMMIT');
    return at;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** A service that really sends its mail (to a local SMTP sink), on a database of its own. */
export interface MailRig {
  service: BenchServer;
  /** The rig's database. */
  db: BenchDb;
  sink: SmtpSink;
  /** The bench's context with the rig's service in place of the main one (for measureWritePath). */
  ctx: BenchContext;
}

/**
 * Starts the SMTP sink, then a service configured like the main one but with SMTP_URL pointing at
 * it, on a fresh database `bouncer_bench_<suffix>`: the main service mails to a closed port, and
 * its sender would claim (and fail) every mail written to its database. Stops both after `work`.
 */
export async function withMailRig<T>(ctx: BenchContext, suffix: string, env: Record<string, string>, work: (rig: MailRig) => Promise<T>): Promise<T> {
  const sink = await SmtpSink.start();
  let service: BenchServer | undefined;
  let db: BenchDb | undefined;
  try {
    const url = await ctx.extraDatabase(suffix);
    service = await startService({
      name: `service (${suffix}, mail to a local SMTP sink)`,
      databaseUrl: url,
      jwtPrivateKeyPem: ctx.keys.jwtPrivateKeyPem,
      encryptionKey: ctx.keys.encryptionKey,
      bcryptRounds: ctx.options.bcryptRounds,
      bcryptConcurrency: ctx.options.bcryptConcurrency,
      env: { SMTP_URL: sink.url, ...env },
    });
    db = await BenchDb.connect(url);
    return await work({ service, db, sink, ctx: { ...ctx, service } });
  } finally {
    await db?.close().catch(() => undefined);
    await service?.stop();
    await sink.stop();
  }
}
