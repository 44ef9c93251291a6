import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { parentOf } from './cpu';
import { createHmac, randomBytes } from 'node:crypto';
import { Encryptor } from '../../src/crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../../src/crypto/random';
import { PasswordHasher } from '../../src/password/password-hasher';
import { base32Encode } from '../../src/two-factor/totp';
import { TOTP_SECRET_BYTES } from '../../src/two-factor/two-factor.constants';
import { AccessTokenService } from '../../src/tokens/access-token.service';
import { loadSigningKeys } from '../../src/tokens/signing-keys';
import type { Role } from '../../src/users/role.enum';

/** Every seeded account has this password (not on the common list, no email part in it). */
export const SEED_PASSWORD = 'Quiet-lantern-orbit-4127';
export const WRONG_PASSWORD = 'Quiet-lantern-orbit-4128';
const SEED_CHUNK_ROWS = 200_000; // one INSERT ... SELECT per chunk keeps each transaction and its WAL bounded

export const seedEmail = (n: number): string => `u${n}@bench.test`;

/**
 * What src/auth/password-hasher.ts hands bcrypt: HMAC-SHA256 (fixed domain key) of the NFKC
 * password, base64. Kept in step with the service by the L0 runner, which refuses to run when
 * this input does not verify against a hash the service's own PasswordHasher made.
 */
export function servicePrehash(password: string): string {
  return createHmac('sha256', 'bouncer/password-prehash/v1').update(password.normalize('NFKC'), 'utf8').digest('base64');
}

/** One bcrypt hash made the service's way (its own PasswordHasher), shared by every seeded row. */
export async function seedHash(rounds: number): Promise<string> {
  return new PasswordHasher({ rounds, concurrency: 1, queueLimit: 0 }).hash(SEED_PASSWORD);
}

export class BenchDb {
  private constructor(private readonly client: Client) {}

  static async connect(url: string): Promise<BenchDb> {
    const client = new Client({ connectionString: url });
    // The bench database is dropped WITH (FORCE) at the end or on Ctrl-C: that must not crash the bench.
    client.on('error', () => undefined);
    await client.connect();
    return new BenchDb(client);
  }

  query<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    return this.client.query<T>(text, values).then((r) => r.rows);
  }

  async userCount(): Promise<number> {
    return Number((await this.query<{ n: string }>('SELECT count(*) AS n FROM users'))[0].n);
  }

  /**
   * Accounts <prefix><from>..<prefix><to>@bench.test (username <prefix><n>), all with `hash`, by
   * INSERT ... SELECT generate_series.
   */
  async seedUsers(from: number, to: number, hash: string, prefix = 'u'): Promise<void> {
    for (let start = from; start <= to; start += SEED_CHUNK_ROWS) {
      const end = Math.min(to, start + SEED_CHUNK_ROWS - 1);
      await this.query(
        `INSERT INTO users (email, username, password_hash)
         SELECT $4 || g || '@bench.test', $4 || g, $1 FROM generate_series($2::int, $3::int) AS g`,
        [hash, start, end, prefix],
      );
    }
    await this.query('ANALYZE users');
  }

  /**
   * Opens a session row for `count` random seeded accounts, as login would (without the bcrypt),
   * so access tokens can be signed for many distinct users: `me` then reads rows spread over the
   * whole table, not a handful of cached ones.
   */
  async openSessions(count: number, prefix = 'u'): Promise<SeededSession[]> {
    const rows = await this.query<{ id: string; user_id: string; email: string; roles: Role[]; expires_at: Date }>(
      `WITH picked AS (
         SELECT id, email, roles FROM users WHERE email ~ ('^' || $2 || '[0-9]+@bench\\.test$') ORDER BY random() LIMIT $1
       ), opened AS (
         INSERT INTO sessions (user_id, expires_at, user_agent, ip_address)
         SELECT id, now() + interval '1 day', 'bouncer-bench', '127.0.0.1' FROM picked
         RETURNING id, user_id, expires_at
       )
       SELECT opened.id, opened.user_id, picked.email, picked.roles, opened.expires_at FROM opened JOIN picked ON picked.id = opened.user_id`,
      [count, prefix],
    );
    return rows.map((r) => ({ userId: r.user_id, email: r.email, sessionId: r.id, roles: r.roles, expiresAt: r.expires_at }));
  }

  /**
   * Accounts <prefix>1..<prefix><count> with TOTP on, written straight into the database the way
   * confirmTwoFactor leaves them (a base32 secret encrypted with the service's key, bound to the
   * account id, no step used yet), and one live challenge each (what a password login would
   * store): a 2FA step per account without a bcrypt per challenge.
   */
  async seedTwoFactor(prefix: string, count: number, hash: string, encryptionKeyBase64: string): Promise<SeededTwoFactor[]> {
    await this.seedUsers(1, count, hash, prefix);
    const users = await this.query<{ id: string; email: string }>(`SELECT id, email FROM users WHERE email ~ ('^' || $1 || '[0-9]+@bench\\.test$')`, [prefix]);
    const encryptor = new Encryptor(Buffer.from(encryptionKeyBase64, 'base64'));
    const secrets = users.map(() => base32Encode(randomBytes(TOTP_SECRET_BYTES)));
    await this.query(
      `UPDATE users u SET two_factor_enabled = true, totp_secret_enc = x.enc FROM unnest($1::uuid[], $2::text[]) AS x(id, enc) WHERE u.id = x.id`,
      [users.map((u) => u.id), users.map((u, i) => encryptor.encrypt(secrets[i], u.id))],
    );
    const tokens = users.map(() => newOpaqueToken());
    await this.query(
      `INSERT INTO two_factor_challenges (user_id, token_hash, expires_at) SELECT id, h, now() + interval '5 minutes' FROM unnest($1::uuid[], $2::text[]) AS x(id, h)`,
      [users.map((u) => u.id), tokens.map((t) => sha256Hex(t))],
    );
    return users.map((u, i) => ({ userId: u.id, email: u.email, secret: secrets[i], challengeToken: tokens[i] }));
  }

  /** The table of the R5 rung (one durable UPDATE ... RETURNING per request): `rows` rows by primary key. */
  async seedR5Rows(rows: number): Promise<void> {
    await this.query('CREATE TABLE IF NOT EXISTS bench_r5 (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0, touched_at timestamptz)');
    await this.query('INSERT INTO bench_r5 (id) SELECT g FROM generate_series(1, $1::int) AS g ON CONFLICT DO NOTHING', [rows]);
  }

  /** The PostgreSQL server's postmaster, when it runs on this machine (its tree's CPU is measured); NaN otherwise. */
  async postmasterPid(): Promise<number> {
    const [row] = await this.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const parent = parentOf(row.pid);
    try {
      // A server in another pid namespace (a container) would name some other process here.
      return readFileSync(`/proc/${parent}/cmdline`, 'utf8').includes('postgres') ? parent : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }

  /** Server settings that decide what a commit costs (reported with the write rows). */
  async commitSettings(): Promise<{ fsync: string; synchronousCommit: string; walSync: string }> {
    const [row] = await this.query<{ fsync: string; sc: string; ws: string }>(
      "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('wal_sync_method') AS ws",
    );
    return { fsync: row.fsync, synchronousCommit: row.sc, walSync: row.ws };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

export interface SeededTwoFactor {
  userId: string;
  email: string;
  /** base32, as an authenticator app holds it. */
  secret: string;
  challengeToken: string;
}

export interface SeededSession {
  userId: string;
  email: string;
  sessionId: string;
  roles: Role[];
  expiresAt: Date;
}

/** The service's default access-token lifetime (ACCESS_TOKEN_TTL_SECONDS), seconds. */
const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** Tokens are signed again past this age so none expires during a long run. */
const REMINT_AFTER_MS = 5 * 60 * 1000;

/**
 * Access tokens signed by the service's own AccessTokenService with the key the service was given:
 * what login would issue for these sessions (same claims, kid, typ, lifetime).
 */
export class TokenMint {
  private readonly service: AccessTokenService;
  private cache: { at: number; tokens: string[] } | undefined;

  constructor(
    privateKeyPem: string,
    readonly sessions: SeededSession[],
  ) {
    this.service = new AccessTokenService(loadSigningKeys(privateKeyPem), { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: ACCESS_TOKEN_TTL_SECONDS });
  }

  tokens(): string[] {
    if (!this.cache || Date.now() - this.cache.at > REMINT_AFTER_MS) {
      this.cache = { at: Date.now(), tokens: this.sessions.map((s) => this.service.issue(s.userId, s.sessionId, s.roles, s.expiresAt).token) };
    }
    return this.cache.tokens;
  }

  /**
   * `count` tokens the service has never seen, over the same sessions: ES256 signatures are
   * randomised, so signing a session's claims again gives a byte-different token, which the
   * service's verified-token cache (keyed by the whole token) misses.
   */
  fresh(count: number): string[] {
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const s = this.sessions[i % this.sessions.length];
      out[i] = this.service.issue(s.userId, s.sessionId, s.roles, s.expiresAt).token;
    }
    return out;
  }

  get size(): number {
    return this.sessions.length;
  }
}
