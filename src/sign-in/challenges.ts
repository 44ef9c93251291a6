import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import { USER_AGENT_MAX_CHARS } from '../audit/audit.service';
import type { TwoFactorMethod } from './second-factor';
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

/**
 * Rows of a statement run inside a transaction. TypeORM's plain `query` answers UPDATE and DELETE
 * with [rows, rowCount] and everything else with rows; the structured result is the same for all.
 */
export async function rowsOf<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  if (!m.queryRunner) throw new Error('rowsOf runs inside a transaction');
  return (await m.queryRunner.query(text, values, true)).records as T[];
}

/** Pending second-factor steps: opaque tokens stored as hashes, 5 minutes, 5 wrong answers. */
export class Challenges {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async issue(userId: string, methods: TwoFactorMethod[], request: RequestInfo): Promise<TwoFactorChallenge> {
    const token = newOpaqueToken();
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO two_factor_challenges (user_id, token_hash, expires_at, ip_address, user_agent)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5)`,
        [userId, sha256Hex(token), CHALLENGE_TTL_SECONDS, request.ip, request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null],
      );
      await this.audit.record(m, { type: SignInEvent.LOGIN_CHALLENGED, userId, ip: request.ip, userAgent: request.userAgent });
    });
    return Object.assign(new TwoFactorChallenge(), { challengeToken: token, expiresIn: CHALLENGE_TTL_SECONDS, methods });
  }

  /** The account a live challenge belongs to (no lock), or null; cheap input checks first. */
  async ownerOf(token: string): Promise<string | null> {
    if (typeof token !== 'string' || !token || token.length > MAX_CHALLENGE_TOKEN_CHARS) return null;
    const rows: Array<{ user_id: string }> = await this.dataSource.query(
      'SELECT user_id FROM two_factor_challenges WHERE token_hash = $1 AND consumed_at IS NULL AND expires_at > now() AND attempts < $2',
      [sha256Hex(token), MAX_CHALLENGE_ATTEMPTS],
    );
    return rows[0]?.user_id ?? null;
  }

  /**
   * Locks the challenge and checks it again: answers to one challenge run one at a time, so at most
   * MAX_CHALLENGE_ATTEMPTS are ever tried against it, however many arrive at once.
   */
  async lockLive(m: EntityManager, token: string): Promise<LockedChallenge | null> {
    const [row] = await rowsOf<{ id: string; user_id: string; attempts: number; created_at: Date; live: boolean }>(
      m,
      `SELECT id, user_id, attempts, created_at, (consumed_at IS NULL AND expires_at > now()) AS live
         FROM two_factor_challenges WHERE token_hash = $1 FOR UPDATE`,
      [sha256Hex(token)],
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
