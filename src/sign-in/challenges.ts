import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import { USER_AGENT_MAX_CHARS } from '../audit/audit.service';
import { rowsOf, type Sql } from '../db/sql';
import { Statement } from '../db/statement';
import { USER_COLUMNS } from '../users/user.type';
import type { FactorEnrolment } from './second-factor';
import { SignInEvent } from './sign-in.events';
import { TwoFactorChallenge } from './sign-in.types';

/** A sign-in waits this long for its second factor (CONTRACT.md: 5 minutes). */
export const CHALLENGE_TTL_SECONDS = 5 * 60;
/** Wrong answers per challenge before it dies (CONTRACT.md); the account-wide throttle counts on top. */
export const MAX_CHALLENGE_ATTEMPTS = 5;
/** Longest challenge token looked up (ours are 43 characters); longer input is refused unhashed. */
export const MAX_CHALLENGE_TOKEN_CHARS = 256;

/** A live challenge, locked by the transaction that read it. */
export interface LockedChallenge {
  id: string;
  userId: string;
  attempts: number;
  createdAt: Date;
}

/** A live challenge read with its account, unlocked (the first round trip of the 2FA step). */
export interface ChallengeRead {
  challengeId: string;
  /** The SHA-256 of the token the challenge was read by: the later steps find it by this. */
  tokenHash: string;
  createdAt: Date;
  /** The account's SIGN_IN_COLUMNS, `password_changed_since` and the factors' account columns. */
  account: Record<string, unknown> & { id: string; two_factor_enabled: boolean; locked_at: Date | null; password_changed_since: boolean };
  /** What the `begin` expression answered (ms to wait, or null: counted); null when none was read. */
  begun: { waitMs: string | null } | null;
  /** What the caller's `prefetch` expression answered (null when none was given or it found nothing). */
  prefetched: unknown;
}

/** Pending second-factor steps: opaque tokens stored as hashes, 5 minutes, 5 wrong answers. */
export class Challenges {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly audit: AuditService,
  ) {}

  /**
   * Stores a challenge and its audit row in one statement, which also asks the factors whether the
   * account has them (`enrolment`, SecondFactors.enrolment): the challenge lists its methods without
   * a round trip of their own.
   */
  async issue(userId: string, request: RequestInfo, enrolment: (q: Statement) => FactorEnrolment): Promise<TwoFactorChallenge> {
    const token = newOpaqueToken();
    const q = new Statement();
    const issued = q.with(
      'issued',
      `INSERT INTO two_factor_challenges (user_id, token_hash, expires_at, ip_address, user_agent)
       VALUES (${q.bind(userId)}::uuid, ${q.bind(sha256Hex(token))}, now() + make_interval(secs => ${q.bind(CHALLENGE_TTL_SECONDS)}::int),
               ${q.bind(request.ip)}::text, ${q.bind(request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null)}::text)
       RETURNING id`,
    );
    this.audit.insertStep(q, 'audited', issued, [{ type: SignInEvent.LOGIN_CHALLENGED, userId, ip: request.ip, userAgent: request.userAgent }]);
    const factors = enrolment(q);
    const [row] = await this.sql.built<Record<string, unknown>>(q.text(`SELECT ${factors.select}`), q.values, 'challenge_issue');
    return Object.assign(new TwoFactorChallenge(), { challengeToken: token, expiresIn: CHALLENGE_TTL_SECONDS, methods: factors.methods(row ?? {}) });
  }

  /** The account a live challenge belongs to (no lock), or null (other second steps, such as a passkey's, start here). */
  async ownerOf(token: string): Promise<string | null> {
    if (typeof token !== 'string' || !token || token.length > MAX_CHALLENGE_TOKEN_CHARS) return null;
    const rows: Array<{ user_id: string }> = await this.sql.many(
      'challenge_owner',
      'SELECT user_id FROM two_factor_challenges WHERE token_hash = $1 AND consumed_at IS NULL AND expires_at > now() AND attempts < $2',
      [sha256Hex(token), MAX_CHALLENGE_ATTEMPTS],
    );
    return rows[0]?.user_id ?? null;
  }

  /**
   * A live challenge with its account row (plus `columns` of users), unlocked; null when none. Cheap
   * input checks first. `begin`, when it answers an expression (the throttle's begin on the
   * challenge's account, src/abuse/throttle-steps.ts), is evaluated on that row alone, in the same
   * round trip: a dead or unknown challenge counts nothing.
   */
  async readLive(
    token: string,
    columns: readonly string[],
    begin?: (q: Statement, userIdSql: string) => string | null,
    prefetch?: (q: Statement) => string | null,
  ): Promise<ChallengeRead | null> {
    if (typeof token !== 'string' || !token || token.length > MAX_CHALLENGE_TOKEN_CHARS) return null;
    const select = [...new Set([...USER_COLUMNS.split(', '), 'locked_at', ...columns])].map((c) => `u.${c}`).join(', ');
    const q = new Statement();
    const tokenHash = sha256Hex(token);
    const [hash, maxAttempts] = [q.bind(tokenHash), q.bind(MAX_CHALLENGE_ATTEMPTS)];
    const counted = begin?.(q, 'c.user_id::text') ?? null;
    const extra = prefetch?.(q) ?? null;
    // The factors, hence the columns, and the throttle's policies are fixed for the life of the process: one shape (two with a prefetch).
    const rows = await this.sql.built<ChallengeRead['account'] & { challenge_id: string; challenge_created_at: Date; throttle_wait?: string | null; prefetched?: unknown }>(
      `SELECT c.id AS challenge_id, c.created_at AS challenge_created_at, ${select}, u.password_changed_at > c.created_at AS password_changed_since
              ${counted ? `, ${counted} AS throttle_wait` : ''}${extra ? `, ${extra} AS prefetched` : ''}
         FROM two_factor_challenges c JOIN users u ON u.id = c.user_id
        WHERE c.token_hash = ${hash} AND c.consumed_at IS NULL AND c.expires_at > now() AND c.attempts < ${maxAttempts}::int`,
      q.values,
      'challenge_read',
    );
    const row = rows[0];
    if (!row) return null;
    const { challenge_id: challengeId, challenge_created_at: createdAt, throttle_wait: wait, prefetched, ...account } = row;
    return { challengeId, tokenHash, createdAt, account, begun: counted ? { waitMs: wait ?? null } : null, prefetched: prefetched ?? null };
  }

  /**
   * The step `ch` of a one-statement 2FA step: the challenge locked, live and under its attempt
   * limit (re-checked on its newest version after the lock), yielding id, user_id and created_at.
   */
  lockStep(q: Statement, tokenHash: string): string {
    return q.with(
      'ch',
      `SELECT id, user_id, created_at FROM two_factor_challenges
        WHERE token_hash = ${q.bind(tokenHash)} AND consumed_at IS NULL AND expires_at > now() AND attempts < ${q.bind(MAX_CHALLENGE_ATTEMPTS)}::int
        FOR UPDATE`,
    );
  }

  /** The step that spends the locked challenge once `gate` yields a row. */
  consumeStep(q: Statement, gate: string): string {
    return q.with('used', `UPDATE two_factor_challenges SET consumed_at = now() WHERE id = (SELECT id FROM ch) AND EXISTS (SELECT 1 FROM ${gate}) RETURNING id`);
  }

  /**
   * Locks the challenge and checks it again: answers to one challenge run one at a time, so at most
   * MAX_CHALLENGE_ATTEMPTS are ever tried against it, however many arrive at once.
   */
  async lockLive(m: EntityManager, tokenHash: string): Promise<LockedChallenge | null> {
    const [row] = await rowsOf<{ id: string; user_id: string; attempts: number; created_at: Date; live: boolean }>(
      m,
      `SELECT id, user_id, attempts, created_at, (consumed_at IS NULL AND expires_at > now()) AS live
         FROM two_factor_challenges WHERE token_hash = $1 FOR UPDATE`,
      [tokenHash],
    );
    if (!row || !row.live || row.attempts >= MAX_CHALLENGE_ATTEMPTS) return null;
    return { id: row.id, userId: row.user_id, attempts: row.attempts, createdAt: row.created_at };
  }

  async countWrongAnswer(m: EntityManager, challenge: LockedChallenge): Promise<void> {
    await m.query('UPDATE two_factor_challenges SET attempts = attempts + 1 WHERE id = $1', [challenge.id]);
  }

  async consume(m: EntityManager, challenge: LockedChallenge): Promise<void> {
    await m.query('UPDATE two_factor_challenges SET consumed_at = now() WHERE id = $1', [challenge.id]);
  }
}
