import type { DataSource, EntityManager } from 'typeorm';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import type { LinkMailKind } from '../mail/mail-kinds';
import type { Outbox } from '../mail/outbox.service';
import { rowsOf } from '../db/sql';

/** CONTRACT.md, Email: how long each link works, and how its mail says so. */
export const TOKEN_LIFETIMES: Readonly<Record<LinkMailKind, { seconds: number; words: string }>> = {
  verify_email: { seconds: 24 * 60 * 60, words: '24 hours' },
  reset_password: { seconds: 30 * 60, words: '30 minutes' },
  confirm_email_change: { seconds: 60 * 60, words: '1 hour' },
};

/** Longest input looked up as a token (ours are 43 characters); longer is refused unhashed. */
const MAX_TOKEN_INPUT_CHARS = 256;

/** The account a live token belongs to. */
export interface TokenHolder {
  userId: string;
  /** The address the link was mailed to. */
  email: string;
  username: string | null;
}

/** A token is live while unused, not retired by a newer one, unexpired, and its address still the account's (a new address's link excepted). */
const LIVE = `t.token_hash = $1 AND t.kind = $2 AND t.used_at IS NULL AND t.retired_at IS NULL AND t.expires_at > now()
  AND u.id = t.user_id AND (t.kind = 'confirm_email_change' OR u.email = t.email)`;

/**
 * Single-use tokens of emailed links. Only the SHA-256 of a token is stored (a database dump
 * yields nothing to replay; 256 random bits need no slow hash); the token itself goes into the
 * outbox encrypted and is erased there once the mail is sent.
 */
export class EmailTokens {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  /**
   * In the caller's transaction: retires the account's live tokens of this kind, stores a new one
   * and queues its mail. The account row is locked first, so two racing sends leave one live token.
   */
  async send(m: EntityManager, mail: { userId: string; kind: LinkMailKind; to: string; data?: Record<string, string> }): Promise<void> {
    const token = newOpaqueToken();
    const lifetime = TOKEN_LIFETIMES[mail.kind];
    await m.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [mail.userId]);
    await m.query(
      `WITH retired AS (UPDATE email_tokens SET retired_at = now() WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND retired_at IS NULL)
       INSERT INTO email_tokens (user_id, kind, token_hash, email, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [mail.userId, mail.kind, sha256Hex(token), mail.to, lifetime.seconds],
    );
    await this.outbox.enqueue(m, { kind: mail.kind, to: mail.to, userId: mail.userId, token, data: { ...mail.data, expiresIn: lifetime.words } });
  }

  /** The holder of a live token, without spending it (a reset checks the new password first). */
  async peek(token: unknown, kind: LinkMailKind): Promise<TokenHolder | null> {
    if (!plausible(token)) return null;
    const rows: HolderRow[] = await this.dataSource.query(`SELECT ${HOLDER} FROM email_tokens t, users u WHERE ${LIVE}`, [sha256Hex(token), kind]);
    return rows[0] ? holderOf(rows[0]) : null;
  }

  /**
   * Spends a live token in one statement: of several requests racing with one token, exactly one
   * gets its holder (the others wait on the row lock, then find it used). Null for any other token.
   */
  async consume(m: EntityManager, token: unknown, kind: LinkMailKind): Promise<TokenHolder | null> {
    if (!plausible(token)) return null;
    const [row] = await rowsOf<HolderRow>(m, `UPDATE email_tokens t SET used_at = now() FROM users u WHERE ${LIVE} RETURNING ${HOLDER}`, [sha256Hex(token), kind]);
    return row ? holderOf(row) : null;
  }

  /** Retires every live token of the account (its password was reset, its address changed). */
  async retireAll(m: EntityManager, userId: string): Promise<void> {
    await m.query('UPDATE email_tokens SET retired_at = now() WHERE user_id = $1 AND used_at IS NULL AND retired_at IS NULL', [userId]);
  }
}

/** A subquery: the new address of the live email-change token of account `u`, if any (User.pendingEmail). */
export const PENDING_EMAIL_OF_U = `SELECT t.email FROM email_tokens t
   WHERE t.user_id = u.id AND t.kind = 'confirm_email_change' AND t.used_at IS NULL AND t.retired_at IS NULL AND t.expires_at > now()
   ORDER BY t.created_at DESC LIMIT 1`;

const HOLDER = 't.user_id, t.email, u.username';
type HolderRow = { user_id: string; email: string; username: string | null };
const holderOf = (row: HolderRow): TokenHolder => ({ userId: row.user_id, email: row.email, username: row.username });

function plausible(token: unknown): token is string {
  return typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_INPUT_CHARS;
}
