import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { USER_AGENT_MAX_CHARS, type AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Encryptor } from '../crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import { badField, CoreErrors } from '../errors/core-errors';
import { SessionEvent } from './session.events';
import { USER_COLUMNS, type UserRow } from '../users/user.type';
import type { RevocationWatcher } from './revocation-watcher';
import { Session } from './session.type';

export const SessionRevokedReason = {
  LOGOUT: 'logout',
  LOGOUT_ALL: 'logout_all',
  REVOKED_BY_USER: 'revoked_by_user',
  PASSWORD_CHANGED: 'password_changed',
  PASSWORD_RESET: 'password_reset',
  REFRESH_TOKEN_REUSE: 'refresh_token_reuse',
  EXPIRED: 'expired',
  /** Opening a session beyond SESSION_MAX_PER_USER ends the least recently used ones. */
  SESSION_LIMIT: 'session_limit',
  /** An account lost a role: tokens claiming it must not live on. */
  ROLES_REDUCED: 'roles_reduced',
  ACCOUNT_LOCKED: 'account_locked',
  REVOKED_BY_ADMIN: 'revoked_by_admin',
} as const;
export type SessionRevokedReason = (typeof SessionRevokedReason)[keyof typeof SessionRevokedReason];

export interface SessionOptions {
  idleSeconds: number;
  absoluteSeconds: number;
  reuseGraceSeconds: number;
  /** Live sessions an account may hold (SESSION_MAX_PER_USER, at most SESSIONS_LIST_MAX). */
  maxPerUser: number;
}

/** Most entries `sessions` can return: the query cost rule prices the list at this many. */
export const SESSIONS_LIST_MAX = 100;
/** First key of the per-account advisory lock that serialises session opens (the second: the user id's hash). */
const SESSION_OPEN_LOCK = 0x5e55;
/** A session is live: not revoked, before its absolute end and its idle end ($idle: idle seconds). */
const LIVE = (idle: string) => `revoked_at IS NULL AND expires_at > now() AND last_used_at + make_interval(secs => ${idle}) > now()`;

export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
  /** The absolute end: no access token of this session may outlive it. */
  expiresAt: Date;
}

export interface RefreshedSession extends OpenedSession {
  user: UserRow;
}

/** Longest value accepted as a refresh token before any lookup (ours are 43 characters). */
const MAX_REFRESH_TOKEN_CHARS = 256;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type RefreshOutcome = { kind: 'ok'; session: RefreshedSession } | { kind: 'invalid' } | { kind: 'locked' } | { kind: 'reused'; sessionId: string };

export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly encryptor: Encryptor,
    private readonly revocations: RevocationWatcher,
    private readonly options: SessionOptions,
  ) {}

  /**
   * Opens a session with its first refresh token, inside the caller's transaction. Past
   * `maxPerUser` live sessions, the least recently used ones end (`session_limit`, audited) in the
   * same transaction; other instances and this one learn it from the revocation poll.
   */
  async open(manager: EntityManager, userId: string, request: RequestInfo): Promise<OpenedSession> {
    const sessionId = randomUUID();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.options.absoluteSeconds * 1000);
    const refreshToken = newOpaqueToken();
    // Opens of one account take turns, so racing logins cannot all pass the cap together.
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SESSION_OPEN_LOCK, userId]);
    const others: Array<{ live: number }> = await manager.query(
      `WITH s AS (INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip_address)
                  VALUES ($1, $2, $3, $3, $4, $5, $6)),
            rt AS (INSERT INTO refresh_tokens (session_id, token_hash) VALUES ($1, $7))
       SELECT count(*)::int AS live FROM sessions WHERE user_id = $2 AND ${LIVE('$8')}`,
      [sessionId, userId, now, expiresAt, request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null, request.ip, sha256Hex(refreshToken), this.options.idleSeconds],
    );
    // The count ran on the statement's snapshot: it saw the other sessions, not the new one.
    if (others[0].live >= this.options.maxPerUser) {
      await revokeSessions(
        manager,
        `id IN (SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 AND ${LIVE('$3')}
                 ORDER BY last_used_at DESC, created_at DESC, id OFFSET $4)`,
        [userId, sessionId, this.options.idleSeconds, this.options.maxPerUser - 1],
        SessionRevokedReason.SESSION_LIMIT,
        request,
      );
    }
    return { sessionId, refreshToken, expiresAt };
  }

  /**
   * Rotates a refresh token. Racing refreshes with one token (several tabs) inside the grace window
   * all get the same successor; a retired token presented later revokes the whole session.
   */
  async refresh(refreshToken: string, request: RequestInfo): Promise<RefreshedSession> {
    if (!refreshToken || refreshToken.length > MAX_REFRESH_TOKEN_CHARS) throw CoreErrors.INVALID_TOKEN();
    const tokenHash = sha256Hex(refreshToken);
    const outcome = await this.dataSource.transaction(async (m): Promise<RefreshOutcome> => {
      // Lock the session row first, then read the token in a later statement: under READ COMMITTED
      // that read sees what a racing refresh committed while this one waited for the lock.
      const owner: Array<{ id: string }> = await m.query(
        'SELECT id FROM sessions WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) FOR UPDATE',
        [tokenHash],
      );
      if (!owner[0]) return { kind: 'invalid' };
      const rows: Array<{
        rt_id: string;
        session_id: string;
        retired_at: Date | null;
        successor_enc: string | null;
        successor_current: boolean | null;
        expires_at: Date;
        last_used_at: Date;
        revoked_at: Date | null;
        user_id: string;
        locked: boolean;
        db_now: Date;
      }> = await m.query(
        `SELECT rt.id AS rt_id, rt.session_id, rt.retired_at, rt.successor_enc,
                (SELECT nx.retired_at IS NULL FROM refresh_tokens nx WHERE nx.id = rt.successor_id) AS successor_current,
                s.expires_at, s.last_used_at, s.revoked_at, s.user_id, u.locked_at IS NOT NULL AS locked, now() AS db_now
           FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
          WHERE rt.token_hash = $1`,
        [tokenHash],
      );
      const row = rows[0];
      if (!row) return { kind: 'invalid' };
      // A token of the account (its session ended by the lock) says why: the holder had it.
      if (row.locked) return { kind: 'locked' };
      if (row.revoked_at) return { kind: 'invalid' };
      const now = row.db_now;
      const idleEnd = row.last_used_at.getTime() + this.options.idleSeconds * 1000;
      if (now.getTime() >= row.expires_at.getTime() || now.getTime() >= idleEnd) {
        await revokeSessions(m, 'id = $1', [row.session_id], SessionRevokedReason.EXPIRED, null);
        return { kind: 'invalid' };
      }

      // Statements below are merged with CTEs: a refresh is a handful of round trips, not ten.
      const touchSessionThenReadUser = `s AS (UPDATE sessions SET last_used_at = now(), ip_address = COALESCE($2, ip_address) WHERE id = $1)
        SELECT ${USER_COLUMNS} FROM users WHERE id = $3`;
      let nextToken: string;
      let users: UserRow[];
      if (row.retired_at === null) {
        nextToken = newOpaqueToken();
        // Only the token just retired keeps a copy of its successor, and only for the grace window.
        users = await m.query(
          `WITH ins AS (INSERT INTO refresh_tokens (id, session_id, token_hash) VALUES ($4, $1, $5)),
                rt AS (UPDATE refresh_tokens
                          SET retired_at = CASE WHEN id = $6 THEN now() ELSE retired_at END,
                              successor_id = CASE WHEN id = $6 THEN $4::uuid ELSE successor_id END,
                              successor_enc = CASE WHEN id = $6 THEN $7 ELSE NULL END
                        WHERE session_id = $1 AND (id = $6 OR successor_enc IS NOT NULL)),
                ${touchSessionThenReadUser}`,
          [row.session_id, request.ip, row.user_id, randomUUID(), sha256Hex(nextToken), row.rt_id, this.encryptor.encrypt(nextToken, row.rt_id)],
        );
      } else {
        const withinGrace = now.getTime() - row.retired_at.getTime() <= this.options.reuseGraceSeconds * 1000;
        if (!withinGrace || !row.successor_enc || !row.successor_current) {
          await revokeSessions(m, 'id = $1', [row.session_id], SessionRevokedReason.REFRESH_TOKEN_REUSE, request);
          await this.audit.record(m, {
            type: SessionEvent.REFRESH_TOKEN_REUSED,
            userId: row.user_id,
            sessionId: row.session_id,
            ip: request.ip,
            userAgent: request.userAgent,
          });
          return { kind: 'reused', sessionId: row.session_id };
        }
        nextToken = this.encryptor.decrypt(row.successor_enc, row.rt_id);
        users = await m.query(`WITH ${touchSessionThenReadUser}`, [row.session_id, request.ip, row.user_id]);
      }
      if (!users[0]) return { kind: 'invalid' };
      return {
        kind: 'ok',
        session: { sessionId: row.session_id, refreshToken: nextToken, expiresAt: row.expires_at, user: users[0] },
      };
    });
    if (outcome.kind === 'ok') return outcome.session;
    if (outcome.kind === 'locked') throw CoreErrors.ACCOUNT_LOCKED();
    // The revocation is committed before the error goes out.
    if (outcome.kind === 'reused') this.revocations.markRevoked(outcome.sessionId);
    throw CoreErrors.INVALID_TOKEN(outcome.kind === 'reused' ? { reason: 'reuse_detected' } : {});
  }

  async listLive(userId: string, currentSessionId: string): Promise<Session[]> {
    const rows: Array<{ id: string; created_at: Date; last_used_at: Date; expires_at: Date; user_agent: string | null; ip_address: string | null }> =
      await this.dataSource.query(
        `SELECT id, created_at, last_used_at,
                LEAST(expires_at, last_used_at + make_interval(secs => $2)) AS expires_at, user_agent, ip_address
           FROM sessions
          WHERE user_id = $1 AND revoked_at IS NULL
            AND expires_at > now() AND last_used_at + make_interval(secs => $2) > now()
          ORDER BY last_used_at DESC
          LIMIT $3`,
        [userId, this.options.idleSeconds, this.options.maxPerUser],
      );
    return rows.map((r) =>
      Object.assign(new Session(), {
        id: r.id,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        expiresAt: r.expires_at,
        userAgent: r.user_agent,
        ipAddress: r.ip_address,
        current: r.id === currentSessionId,
      }),
    );
  }

  /** Revokes one of the caller's own sessions; another user's session is "not found", never revealed. */
  async revokeOwn(userId: string, sessionId: string, reason: SessionRevokedReason, request: RequestInfo): Promise<boolean> {
    if (!UUID.test(sessionId)) throw badField('id', 'No such session.');
    const revoked = await this.dataSource.transaction(async (m) => {
      const owned: Array<{ id: string }> = await m.query(`SELECT id FROM sessions WHERE id = $1 AND user_id = $2`, [sessionId, userId]);
      if (!owned[0]) throw badField('id', 'No such session.');
      return revokeSessions(m, 'id = $1', [sessionId], reason, request);
    });
    this.revocations.markRevoked(...revoked);
    return true;
  }

  /** Revokes every live session of a user (optionally but one), inside the caller's transaction. */
  async revokeAllOfUser(
    manager: EntityManager,
    userId: string,
    reason: SessionRevokedReason,
    request: RequestInfo,
    exceptSessionId?: string,
  ): Promise<string[]> {
    return exceptSessionId
      ? revokeSessions(manager, 'user_id = $1 AND id <> $2', [userId, exceptSessionId], reason, request)
      : revokeSessions(manager, 'user_id = $1', [userId], reason, request);
  }

  async logoutAll(userId: string, request: RequestInfo): Promise<void> {
    const ids = await this.dataSource.transaction((m) => this.revokeAllOfUser(m, userId, SessionRevokedReason.LOGOUT_ALL, request));
    this.revocations.markRevoked(...ids);
  }
}

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
          grace AS (UPDATE refresh_tokens SET successor_enc = NULL
                     WHERE session_id IN (SELECT id FROM revoked) AND successor_enc IS NOT NULL)`;
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
