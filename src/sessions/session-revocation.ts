import type { EntityManager } from 'typeorm';
import { USER_AGENT_MAX_CHARS } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { SessionEvent } from './session.events';

export const SessionRevokedReason = {
  LOGOUT: 'logout',
  LOGOUT_ALL: 'logout_all',
  REVOKED_BY_USER: 'revoked_by_user',
  PASSWORD_CHANGED: 'password_changed',
  REFRESH_TOKEN_REUSE: 'refresh_token_reuse',
  EXPIRED: 'expired',
  /** Opening a session beyond SESSION_MAX_PER_USER ends the least recently used ones. */
  SESSION_LIMIT: 'session_limit',
  /** An account lost a role: tokens claiming it must not live on. */
  ROLES_REDUCED: 'roles_reduced',
  PASSWORD_RESET: 'password_reset',
  ACCOUNT_LOCKED: 'account_locked',
  REVOKED_BY_ADMIN: 'revoked_by_admin',
  /** The address's owner proved the mailbox: provider links made on an unproven claim went, and any session they opened. */
  ADDRESS_PROVEN: 'address_proven',
} as const;
export type SessionRevokedReason = (typeof SessionRevokedReason)[keyof typeof SessionRevokedReason];

/** A session is live: not revoked, before its absolute end and its idle end ($idle: idle seconds). */
export const LIVE = (idle: string): string => `revoked_at IS NULL AND expires_at > now() AND last_used_at + make_interval(secs => ${idle}) > now()`;

/**
 * Revokes the live sessions matching `where` (its parameters are `params`) in ONE statement,
 * however many there are: the sessions, their refresh tokens' grace copies and, when `request` is
 * given, one `session.revoked` audit row per session, all set-based. Nothing is bound per session
 * (PostgreSQL allows 65,535 bind parameters in a statement; one row each used to pass it at ~11,000
 * sessions, and the revocation rolled back). Stamped with clock_timestamp(), the moment of the
 * UPDATE, not the transaction's start: pollers read revocations by time. Returns the ids revoked;
 * the caller marks them in the revocation watcher once committed.
 */
export async function revokeSessions(
  m: EntityManager,
  where: string,
  params: unknown[],
  reason: SessionRevokedReason,
  request: RequestInfo | null,
): Promise<string[]> {
  const at = (offset: number) => `$${params.length + offset}`;
  const revoke = `WITH revoked AS (UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = ${at(1)}::text
                                 WHERE (${where}) AND revoked_at IS NULL
                                 RETURNING id, user_id),
          grace AS (UPDATE refresh_tokens SET grace_enc = NULL
                     WHERE session_id IN (SELECT id FROM revoked) AND grace_enc IS NOT NULL)`;
  const rows: Array<{ id: string }> = request
    ? await m.query(
        `${revoke}
         INSERT INTO audit_events (type, user_id, session_id, ip_address, user_agent, data)
         SELECT ${at(2)}, user_id, id, ${at(3)}, ${at(4)}, jsonb_build_object('reason', ${at(1)}::text) FROM revoked
         RETURNING session_id AS id`,
        [...params, reason, SessionEvent.SESSION_REVOKED, request.ip, request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null],
      )
    : await m.query(`${revoke} SELECT id FROM revoked`, [...params, reason]);
  return rows.map((r) => r.id);
}
