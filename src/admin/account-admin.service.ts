import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import { badField, CoreErrors } from '../errors/core-errors';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import { SessionRevokedReason, type SessionsService } from '../sessions/sessions.service';
import { rowsOf } from '../db/sql';
import { toUser, USER_COLUMNS, type User, type UserRow } from '../users/user.type';
import type { AccountDeletion } from './account-deletion';
import { AdminEvent } from './admin.events';
import { actorLabel, checkUserId, keepAnAdministrator, lockAccount, lockAdministrators, type Actor } from './admin-locks';

export const LOCK_REASON_MAX_CHARS = 500;

/**
 * What an administrator (GraphQL) or the operator (CLI) does to an account: lock, unlock, end its
 * sessions, delete it. Each is one transaction with its audit event; sessions it ends are marked in
 * this instance's revocation view at once (other instances read them within a poll). An
 * administrator never sets a password (OWASP ASVS): a locked-out owner resets their own.
 */
export class AccountAdmin {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionsService,
    private readonly revocations: RevocationWatcher,
    private readonly audit: AuditService,
    private readonly deletion: AccountDeletion,
  ) {}

  /** Locks the account: every session ends now, and sign-ins and refreshes say ACCOUNT_LOCKED. */
  async lock(actor: Actor, userId: string, reason: string | null | undefined, request: RequestInfo): Promise<User> {
    checkUserId(userId);
    const why = reason?.trim() || null;
    if (why && why.length > LOCK_REASON_MAX_CHARS) throw badField('reason', `reason must be at most ${LOCK_REASON_MAX_CHARS} characters.`);
    if (actor === userId) throw CoreErrors.FORBIDDEN({ message: 'You cannot lock your own account.' });
    const { row, ended } = await this.dataSource.transaction(async (m) => {
      const admins = await lockAdministrators(m, actor);
      let row = await lockAccount(m, userId);
      keepAnAdministrator(admins, row);
      if (!row.locked_at) {
        [row] = await rowsOf<UserRow>(m, `UPDATE users SET locked_at = now(), updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`, [userId]);
        await this.audit.record(m, {
          type: AdminEvent.USER_LOCKED,
          userId,
          ip: request.ip,
          userAgent: request.userAgent,
          data: { by: actorLabel(actor), ...(why ? { reason: why } : {}) },
        });
      }
      // Also when it was locked already: nothing may have opened since, but a second lock is cheap.
      const ended = await this.sessions.revokeAllOfUser(m, userId, SessionRevokedReason.ACCOUNT_LOCKED, request);
      return { row, ended };
    });
    this.revocations.markRevoked(...ended);
    return toUser(row);
  }

  /** Lifts the lock. Sessions the lock ended stay ended: the owner signs in again. */
  async unlock(actor: Actor, userId: string, request: RequestInfo): Promise<User> {
    checkUserId(userId);
    const row = await this.dataSource.transaction(async (m) => {
      await lockAdministrators(m, actor);
      let row = await lockAccount(m, userId);
      if (row.locked_at) {
        [row] = await rowsOf<UserRow>(m, `UPDATE users SET locked_at = NULL, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`, [userId]);
        await this.audit.record(m, { type: AdminEvent.USER_UNLOCKED, userId, ip: request.ip, userAgent: request.userAgent, data: { by: actorLabel(actor) } });
      }
      return row;
    });
    return toUser(row);
  }

  /** Ends every live session of the account; returns how many ended. */
  async revokeSessions(actor: Actor, userId: string, request: RequestInfo): Promise<number> {
    checkUserId(userId);
    const ended = await this.dataSource.transaction(async (m) => {
      const [exists] = await rowsOf<{ id: string }>(m, 'SELECT id FROM users WHERE id = $1', [userId]);
      if (!exists) throw badField('userId', 'No such user.');
      const ended = await this.sessions.revokeAllOfUser(m, userId, SessionRevokedReason.REVOKED_BY_ADMIN, request);
      await this.audit.record(m, {
        type: AdminEvent.USER_SESSIONS_REVOKED,
        userId,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { by: actorLabel(actor), count: ended.length },
      });
      return ended;
    });
    this.revocations.markRevoked(...ended);
    return ended.length;
  }

  /** Deletes another account (an administrator deletes their own with deleteMyAccount). */
  async delete(actor: Actor, userId: string, request: RequestInfo): Promise<boolean> {
    checkUserId(userId);
    if (actor === userId) throw CoreErrors.FORBIDDEN({ message: 'Use deleteMyAccount to delete your own account.' });
    const ended = await this.dataSource.transaction(async (m) => {
      const admins = await lockAdministrators(m, actor);
      const target = await lockAccount(m, userId);
      keepAnAdministrator(admins, target);
      return this.deletion.delete(m, userId, { by: actorLabel(actor) }, request);
    });
    this.revocations.markRevoked(...ended);
    return true;
  }

  /** The CLI's way to name an account. */
  async idByEmail(email: string): Promise<string> {
    const rows: Array<{ id: string }> = await this.dataSource.query('SELECT id FROM users WHERE email = $1', [email.trim().toLowerCase()]);
    if (!rows[0]) throw new Error(`no account with email "${email}"`);
    return rows[0].id;
  }
}
