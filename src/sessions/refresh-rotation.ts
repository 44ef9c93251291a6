import { randomUUID } from 'node:crypto';
import type { Encryptor } from '../crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import type { Sql } from '../db/sql';
import { USER_COLUMNS, type UserRow } from '../users/user.type';

/** What the one-statement rotation answers. */
export type Rotation =
  | { kind: 'rotated'; sessionId: string; expiresAt: Date; refreshToken: string; user: UserRow }
  /** Nothing changed: the token is retired, its session ended, or a racing refresh rotated it first. */
  | { kind: 'not_current' }
  | { kind: 'unknown' };

/**
 * The associated data of a token's grace copy: the hash of the token it succeeds, known before the
 * rotating statement runs (the retired row's id, used before, is not).
 */
export const successorAad = (tokenHash: string): string => `refresh:${tokenHash}`;

const U = USER_COLUMNS.split(', ')
  .map((c) => `u.${c}`)
  .join(', ');

/*
 * The common refresh in ONE statement (one round trip, one commit), on the current token only:
 * - `s` touches the session through the token, only while it is live; an UPDATE locks the row and
 *   re-checks its WHERE on the newest version, so a revocation or a racing rotation committed while
 *   this waited is seen;
 * - `cur` retires the token only if it is still current (the same re-check: of racing refreshes
 *   with one token exactly one rotates; the others change nothing but the session's last use, and
 *   take the grace path) and clears the grace copy it held: no indexed column changes, so with room
 *   on its page the update is HOT (RefreshGraceOnOwnRow1764700031100);
 * - `ins` stores the successor's hash with its own grace copy (encrypted, bound to the retired
 *   token's hash), which tabs presenting the retired token are handed within the grace window.
 * No row comes back when the token was not rotated; `known` tells a retired token from garbage.
 */
const ROTATE = `
WITH s AS (
  UPDATE sessions SET last_used_at = now(), ip_address = COALESCE($2, ip_address)
   WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1 AND retired_at IS NULL)
     AND revoked_at IS NULL AND expires_at > now() AND last_used_at + make_interval(secs => $3::int) > now()
  RETURNING id, user_id, expires_at
), cur AS (
  UPDATE refresh_tokens SET retired_at = now(), successor_id = $4::uuid, grace_enc = NULL
   WHERE token_hash = $1 AND retired_at IS NULL AND session_id = (SELECT id FROM s)
  RETURNING id, session_id
), ins AS (
  INSERT INTO refresh_tokens (id, session_id, token_hash, grace_enc) SELECT $4::uuid, session_id, $6, $5 FROM cur
)
SELECT r.*, (r.session_id IS NOT NULL OR EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = $1)) AS known
  FROM (SELECT 1) AS one
  LEFT JOIN (SELECT s.id AS session_id, s.expires_at AS session_expires_at, ${U}
               FROM s JOIN cur ON cur.session_id = s.id JOIN users u ON u.id = s.user_id) AS r ON true`;

export async function rotateCurrent(sql: Sql, encryptor: Encryptor, refreshToken: string, ip: string | null, idleSeconds: number): Promise<Rotation> {
  const tokenHash = sha256Hex(refreshToken);
  const next = newOpaqueToken();
  const [row] = await sql.many<UserRow & { session_id: string | null; session_expires_at: Date | null; known: boolean }>('refresh_rotate', ROTATE, [
    tokenHash,
    ip,
    idleSeconds,
    randomUUID(),
    encryptor.encrypt(next, successorAad(tokenHash)),
    sha256Hex(next),
  ]);
  if (!row?.session_id) return row?.known ? { kind: 'not_current' } : { kind: 'unknown' };
  const { session_id: sessionId, session_expires_at: expiresAt, known: _known, ...user } = row;
  return { kind: 'rotated', sessionId, expiresAt: expiresAt!, refreshToken: next, user };
}
