import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { USER_AGENT_MAX_CHARS, type AuditRecord, type AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import type { Sql } from '../db/sql';
import { Statement } from '../db/statement';
import { LIVE, revokeSessions, SessionRevokedReason } from './session-revocation';

export interface SessionOptions {
  idleSeconds: number;
  absoluteSeconds: number;
  reuseGraceSeconds: number;
  /** Live sessions an account may hold (SESSION_MAX_PER_USER, at most SESSIONS_LIST_MAX). */
  maxPerUser: number;
}

export interface OpenedSession {
  sessionId: string;
  refreshToken: string;
  /** The absolute end: no access token of this session may outlive it. */
  expiresAt: Date;
}

/** Steps that open a session within a one-statement write (src/db/statement.ts). */
export interface OpenSteps {
  /** The step that yields the session's row once it is inserted. */
  opened: string;
  session: OpenedSession;
}

/**
 * How a session opens. The common case is one statement: the account's open lock and live count
 * (session_open_slot), the session, its first refresh token and the caller's audit rows, inserted
 * only while the account is under its cap. At the cap, `openTrimming` inside a transaction ends
 * the least recently used sessions as well. Flows that must change something else in the same
 * commit (a challenge spent, a code used) put `slotStep` and `insertSteps` into their own statement.
 */
export class SessionOpener {
  constructor(
    private readonly sql: Sql,
    private readonly audit: AuditService,
    private readonly options: SessionOptions,
  ) {}

  /**
   * Takes the account's open lock and tells, as column `ok` of step `slot`, whether it may hold one
   * more session; runs once `after` yields a row, when given. Later steps gate on `slot WHERE ok`.
   */
  slotStep(q: Statement, userId: string, after?: string): string {
    return q.with(
      'slot',
      `SELECT session_open_slot(${q.bind(userId)}::uuid, ${q.bind(this.options.idleSeconds)}::int) < ${q.bind(this.options.maxPerUser)}::int AS ok
       ${after ? `FROM ${after}` : ''}`,
    );
  }

  /** Inserts the session and its first refresh token once `gate` (a FROM clause, e.g. `slot WHERE ok`) yields a row. */
  insertSteps(q: Statement, userId: string, request: RequestInfo, gate: string): OpenSteps {
    const at = new Date();
    const session = this.fresh(at);
    const now = q.bind(at);
    const opened = q.with(
      'opened',
      `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip_address)
       SELECT ${q.bind(session.sessionId)}::uuid, ${q.bind(userId)}::uuid, ${now}::timestamptz, ${now}::timestamptz, ${q.bind(session.expiresAt)}::timestamptz,
              ${q.bind(request.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null)}::text, ${q.bind(request.ip)}::text
        WHERE EXISTS (SELECT 1 FROM ${gate})
       RETURNING id`,
    );
    q.with('opened_token', `INSERT INTO refresh_tokens (session_id, token_hash) SELECT id, ${q.bind(sha256Hex(session.refreshToken))} FROM ${opened}`);
    return { opened, session };
  }

  /**
   * Opens a session with `audit` in one statement (in `manager`'s transaction when given); null when
   * the account is at its cap, nothing written: the caller then uses `openTrimming`.
   */
  async openNow(userId: string, request: RequestInfo, audit: AuditRecord[], manager?: EntityManager): Promise<OpenedSession | null> {
    const q = new Statement();
    this.slotStep(q, userId);
    const { opened, session } = this.insertSteps(q, userId, request, 'slot WHERE ok');
    this.audit.insertStep(q, 'audited', opened, audit);
    const text = q.text(`SELECT count(*)::int AS opened FROM ${opened}`);
    const rows: Array<{ opened: number }> = manager ? await manager.query(text, q.values) : await this.sql.many('session_open', text, q.values);
    return rows[0]?.opened === 1 ? session : null;
  }

  /**
   * Opens a session inside the caller's transaction. Past `maxPerUser` live sessions, the least
   * recently used ones end (`session_limit`, audited) in the same transaction; other instances and
   * this one learn it from the revocation poll.
   */
  async openTrimming(manager: EntityManager, userId: string, request: RequestInfo): Promise<OpenedSession> {
    const [{ others }]: Array<{ others: number }> = await manager.query('SELECT session_open_slot($1, $2) AS others', [userId, this.options.idleSeconds]);
    const q = new Statement();
    const { session } = this.insertSteps(q, userId, request, '(SELECT 1) AS always');
    await manager.query(q.text('SELECT 1'), q.values);
    if (others >= this.options.maxPerUser) {
      await revokeSessions(
        manager,
        `id IN (SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 AND ${LIVE('$3')}
                 ORDER BY last_used_at DESC, created_at DESC, id OFFSET $4)`,
        [userId, session.sessionId, this.options.idleSeconds, this.options.maxPerUser - 1],
        SessionRevokedReason.SESSION_LIMIT,
        request,
      );
    }
    return session;
  }

  /** Takes the account's open lock in the caller's transaction (before locking rows a later open would wait behind). */
  async lockOpens(manager: EntityManager, userId: string): Promise<void> {
    await manager.query('SELECT session_open_slot($1, $2)', [userId, this.options.idleSeconds]);
  }

  private fresh(now: Date): OpenedSession {
    return {
      sessionId: randomUUID(),
      refreshToken: newOpaqueToken(),
      expiresAt: new Date(now.getTime() + this.options.absoluteSeconds * 1000),
    };
  }
}
