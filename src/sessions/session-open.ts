import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { USER_AGENT_MAX_CHARS, type AuditRecord, type AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { newOpaqueToken, sha256Hex } from '../crypto/random';
import { rowsOf, type Sql } from '../db/sql';
import { Statement } from '../db/statement';
import { CoreErrors } from '../errors/core-errors';
import type { Role } from '../users/role.enum';
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
  /**
   * The account's roles as the opening read them, its row share-locked after the open lock: what
   * the first access token must claim (src/sessions/session-tokens.ts). Set by openNow and
   * openTrimming; a flow that opens through insertSteps alone reads its own.
   */
  roles?: Role[];
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
   * the account is at its cap, or locked or gone meanwhile, nothing written: the caller then uses
   * `openTrimming`, which says which.
   *
   * The roles the token will claim are read in this statement, the account's row share-locked after
   * the open lock: a role change (which locks that row before it ends the account's sessions) either
   * commits first, and this read sees its roles, or waits for this commit, and then ends this
   * session too. Roles read earlier in the sign-in would let a login overlapping a demotion mint a
   * token claiming the old roles for a session the demotion never saw. A lock (lockUser) is seen the
   * same way.
   */
  async openNow(userId: string, request: RequestInfo, audit: AuditRecord[], manager?: EntityManager): Promise<OpenedSession | null> {
    const q = new Statement();
    const slot = this.slotStep(q, userId);
    const holder = q.with(
      'holder',
      `SELECT u.roles FROM users u, ${slot} WHERE u.id = ${q.bind(userId)}::uuid AND ${slot}.ok AND u.locked_at IS NULL FOR SHARE OF u`,
    );
    const { opened, session } = this.insertSteps(q, userId, request, holder);
    this.audit.insertStep(q, 'audited', opened, audit);
    const text = q.text(`SELECT count(*)::int AS opened, (SELECT roles FROM ${holder}) AS roles FROM ${opened}`);
    const rows: Array<{ opened: number; roles: Role[] | null }> = manager ? await manager.query(text, q.values) : await this.sql.many('session_open', text, q.values);
    return rows[0]?.opened === 1 && rows[0].roles ? { ...session, roles: rows[0].roles } : null;
  }

  /**
   * Opens a session inside the caller's transaction. Past `maxPerUser` live sessions, the least
   * recently used ones end (`session_limit`, audited) in the same transaction; other instances and
   * this one learn it from the revocation poll.
   */
  async openTrimming(manager: EntityManager, userId: string, request: RequestInfo): Promise<OpenedSession> {
    // The open lock, then the account's row share-locked and its roles read, as in openNow.
    const [account] = await rowsOf<{ others: number; roles: Role[]; locked: boolean }>(
      manager,
      `WITH slot AS (SELECT session_open_slot($1, $2) AS others)
       SELECT slot.others, u.roles, u.locked_at IS NOT NULL AS locked FROM slot, users u WHERE u.id = $1 FOR SHARE OF u`,
      [userId, this.options.idleSeconds],
    );
    // Deleted or locked by an administrator since the sign-in read it: no session.
    if (!account) throw CoreErrors.UNAUTHENTICATED();
    if (account.locked) throw CoreErrors.ACCOUNT_LOCKED();
    const others = account.others;
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
    return { ...session, roles: account.roles };
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
