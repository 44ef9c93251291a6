import { isUuid } from '../db/uuid';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditRecord, AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Encryptor } from '../crypto/encryption';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import type { Sql } from '../db/sql';
import { badField, CoreErrors } from '../errors/core-errors';
import { USER_COLUMNS, type UserRow } from '../users/user.type';
import { rotateCurrent, successorAad } from './refresh-rotation';
import type { RevocationWatcher } from './revocation-watcher';
import { SessionOpener, type OpenedSession, type SessionOptions } from './session-open';
import { revokeSessions, SessionRevokedReason } from './session-revocation';
import { SessionEvent } from './session.events';
import { Session } from './session.type';

export { revokeSessions, SessionRevokedReason } from './session-revocation';
export type { OpenedSession, SessionOptions } from './session-open';

/** Most entries `sessions` can return: the query cost rule prices the list at this many. */
export const SESSIONS_LIST_MAX = 100;

export interface RefreshedSession extends OpenedSession {
  user: UserRow;
}

/** Longest value accepted as a refresh token before any lookup (ours are 43 characters). */
const MAX_REFRESH_TOKEN_CHARS = 256;

type RefreshOutcome = { kind: 'ok'; session: RefreshedSession } | { kind: 'invalid' } | { kind: 'locked' } | { kind: 'reused'; sessionId: string };

export class SessionsService {
  /** How sessions open: one statement in the common case (src/sessions/session-open.ts). */
  readonly opener: SessionOpener;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly audit: AuditService,
    private readonly encryptor: Encryptor,
    private readonly revocations: RevocationWatcher,
    private readonly options: SessionOptions,
  ) {
    this.opener = new SessionOpener(sql, audit, options);
  }

  /**
   * Opens a session with the caller's `audit` rows in the same commit: one statement while the
   * account is under SESSION_MAX_PER_USER (in `manager`'s transaction when given); at the cap, a
   * transaction that also ends the least recently used sessions (`session_limit`, audited).
   */
  async openAudited(userId: string, request: RequestInfo, audit: AuditRecord[], manager?: EntityManager): Promise<OpenedSession> {
    const opened = await this.opener.openNow(userId, request, audit, manager);
    if (opened) return opened;
    const trim = async (m: EntityManager): Promise<OpenedSession> => {
      await this.audit.record(m, ...audit);
      return this.opener.openTrimming(m, userId, request);
    };
    return manager ? trim(manager) : this.dataSource.transaction(trim);
  }

  /** Opens a session inside the caller's transaction, ending the least recently used ones past the cap. */
  open(manager: EntityManager, userId: string, request: RequestInfo): Promise<OpenedSession> {
    return this.opener.openTrimming(manager, userId, request);
  }

  /**
   * Rotates a refresh token. Racing refreshes with one token (several tabs) inside the grace window
   * all get the same successor; a retired token presented later revokes the whole session. The
   * current token rotates in one statement (src/sessions/refresh-rotation.ts); anything else (a
   * retired token, an ended session) goes through the locking transaction below.
   */
  async refresh(refreshToken: string, request: RequestInfo): Promise<RefreshedSession> {
    if (typeof refreshToken !== 'string' || !refreshToken || refreshToken.length > MAX_REFRESH_TOKEN_CHARS) throw CoreErrors.INVALID_TOKEN();
    const rotation = await rotateCurrent(this.sql, this.encryptor, refreshToken, request.ip, this.options.idleSeconds);
    if (rotation.kind === 'rotated') return rotation;
    if (rotation.kind === 'unknown') throw CoreErrors.INVALID_TOKEN();
    const outcome = await this.dataSource.transaction((m) => this.refreshRetired(m, sha256Hex(refreshToken), request));
    if (outcome.kind === 'ok') return outcome.session;
    // The revocation is committed before the error goes out.
    if (outcome.kind === 'reused') this.revocations.markRevoked(outcome.sessionId);
    if (outcome.kind === 'locked') throw CoreErrors.ACCOUNT_LOCKED();
    throw CoreErrors.INVALID_TOKEN(outcome.kind === 'reused' ? { reason: 'reuse_detected' } : {});
  }

  private async refreshRetired(m: EntityManager, tokenHash: string, request: RequestInfo): Promise<RefreshOutcome> {
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
      `SELECT rt.id AS rt_id, rt.session_id, rt.retired_at, nx.grace_enc AS successor_enc, nx.retired_at IS NULL AS successor_current,
              s.expires_at, s.last_used_at, s.revoked_at, s.user_id, u.locked_at IS NOT NULL AS locked, now() AS db_now
         FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id JOIN users u ON u.id = s.user_id
              LEFT JOIN refresh_tokens nx ON nx.id = rt.successor_id
        WHERE rt.token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return { kind: 'invalid' };
    // A token of a locked account (its session ended by the lock) says why: the holder had it.
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
      // Current again (a racing rotation rolled back): rotate here, under the session lock.
      nextToken = newOpaqueToken();
      // The successor carries its own grace copy; the token retired here clears the one it held.
      users = await m.query(
        `WITH ins AS (INSERT INTO refresh_tokens (session_id, token_hash, grace_enc) VALUES ($1, $5, $6) RETURNING id),
              rt AS (UPDATE refresh_tokens SET retired_at = now(), successor_id = (SELECT id FROM ins), grace_enc = NULL WHERE id = $4),
              ${touchSessionThenReadUser}`,
        [row.session_id, request.ip, row.user_id, row.rt_id, sha256Hex(nextToken), this.encryptor.encrypt(nextToken, successorAad(tokenHash))],
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
      nextToken = this.decryptSuccessor(row.successor_enc, tokenHash, row.rt_id);
      users = await m.query(`WITH ${touchSessionThenReadUser}`, [row.session_id, request.ip, row.user_id]);
    }
    if (!users[0]) return { kind: 'invalid' };
    return {
      kind: 'ok',
      session: { sessionId: row.session_id, refreshToken: nextToken, expiresAt: row.expires_at, user: users[0] },
    };
  }

  /** Grace copies name the token they succeed; those written before that bound the retired row's id. */
  private decryptSuccessor(successorEnc: string, tokenHash: string, retiredId: string): string {
    try {
      return this.encryptor.decrypt(successorEnc, successorAad(tokenHash));
    } catch {
      return this.encryptor.decrypt(successorEnc, retiredId);
    }
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

  /**
   * Whether the session was opened by a sign-in within the last `windowMs`, by the database's clock.
   * A refresh keeps the session (and its created_at), so it never makes a session fresh again.
   */
  async signedInWithin(sessionId: string, userId: string, windowMs: number): Promise<boolean> {
    const rows: Array<{ recent: boolean }> = await this.dataSource.query(
      `SELECT created_at > now() - make_interval(secs => $3) AS recent FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
      [sessionId, userId, windowMs / 1000],
    );
    return rows[0]?.recent === true;
  }

  /** Revokes one of the caller's own sessions; another user's session is "not found", never revealed. */
  async revokeOwn(userId: string, sessionId: string, reason: SessionRevokedReason, request: RequestInfo): Promise<boolean> {
    if (!isUuid(sessionId)) throw badField('id', 'No such session.');
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
