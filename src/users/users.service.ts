import { isUuid } from '../db/uuid';
import type { DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Sql } from '../db/sql';
import { badField, CoreErrors } from '../errors/core-errors';
import { UserEvent } from './user.events';
import type { RevocationWatcher } from '../sessions/revocation-watcher';
import { revokeSessions, SessionRevokedReason } from '../sessions/sessions.service';
import { ALL_ROLES, isRole, Role } from './role.enum';
import { UserConnection } from './user-connection.type';
import { toUser, USER_COLUMNS, type User, type UserRow } from './user.type';

export const USERS_PAGE_DEFAULT = 20;
export const USERS_PAGE_MAX = 100; // CONTRACT.md: users(first:) above 100 is BAD_USER_INPUT
const SEARCH_MAX_CHARS = 254;
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

interface Cursor {
  createdAt: string;
  id: string;
}

// created_at travels as PostgreSQL's own text form: a JS Date would cut microseconds and repeat rows.
function encodeCursor(row: UserRow & { cursor_ts: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: row.cursor_ts, id: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.createdAt === 'string' && PG_TIMESTAMPTZ.test(value.createdAt) && isUuid(value.id)) {
      return { createdAt: value.createdAt, id: value.id };
    }
  } catch {
    // fall through
  }
  throw badField('after', 'Not a cursor this service issued.');
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface RoleChange {
  user: User;
  /** Sessions ended because the account lost a role. */
  endedSessions: number;
}

export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sql: Sql,
    private readonly audit: AuditService,
    /** This instance's revocation view; the CLI has none (instances learn from their poll). */
    private readonly revocations?: Pick<RevocationWatcher, 'markRevoked'>,
  ) {}

  /** The `me` hot path: one prepared primary-key lookup. */
  async findById(id: string): Promise<User | null> {
    const row = await this.sql.one<UserRow>('user_by_id', `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return row ? toUser(row) : null;
  }

  async currentRoles(id: string): Promise<Role[]> {
    const row = await this.sql.one<{ roles: Role[] }>('roles_by_id', 'SELECT roles FROM users WHERE id = $1', [id]);
    return row?.roles ?? [];
  }

  /** Keyset pagination on (created_at, id): stable under inserts and cheap at any depth. */
  async list(first: number, after: string | null | undefined, search: string | null | undefined): Promise<UserConnection> {
    if (!Number.isInteger(first) || first < 1 || first > USERS_PAGE_MAX) {
      throw badField('first', `first must be between 1 and ${USERS_PAGE_MAX}.`);
    }
    const term = search?.trim().toLowerCase() || null;
    if (term && term.length > SEARCH_MAX_CHARS) throw badField('search', `search must be at most ${SEARCH_MAX_CHARS} characters.`);
    const cursor = after ? decodeCursor(after) : null;

    const filters: string[] = [];
    const params: unknown[] = [];
    if (term) {
      params.push(likePattern(term));
      filters.push(`(email LIKE $${params.length} OR lower(username) LIKE $${params.length})`);
    }
    const countWhere = filters.length ? `WHERE ${filters.join(' AND ')}` : '';
    const countParams = [...params];
    if (cursor) {
      params.push(cursor.createdAt, cursor.id);
      filters.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(first + 1);
    const where = filters.length ? `WHERE ${filters.join(' AND ')}` : '';
    const [rows, count]: [Array<UserRow & { cursor_ts: string }>, Array<{ n: string }>] = await Promise.all([
      this.dataSource.query(`SELECT ${USER_COLUMNS}, created_at::text AS cursor_ts FROM users ${where} ORDER BY created_at, id LIMIT $${params.length}`, params),
      this.dataSource.query(`SELECT count(*) AS n FROM users ${countWhere}`, countParams),
    ]);
    const page = rows.slice(0, first);
    return Object.assign(new UserConnection(), {
      nodes: page.map(toUser),
      pageInfo: { endCursor: page.length ? encodeCursor(page[page.length - 1]) : null, hasNextPage: rows.length > first },
      totalCount: Number(count[0].n),
    });
  }

  async setRoles(actorId: string | null, userId: string, roles: Role[], request: RequestInfo): Promise<User> {
    return (await this.changeRoles(actorId, userId, roles, request)).user;
  }

  /**
   * Replaces an account's roles. Every change first locks the administrators' rows, always in id
   * order: two administrators demoting each other take turns, and the second sees the first's
   * result (an actor who is no longer ADMIN is refused; so is a change that would leave no ADMIN).
   * Losing a role ends every session of the account in the same transaction, audited: its access
   * tokens claim the old roles, and other services trust that claim until the token expires.
   */
  async changeRoles(actorId: string | null, userId: string, roles: Role[], request: RequestInfo): Promise<RoleChange> {
    if (!isUuid(userId)) throw badField('userId', 'No such user.');
    // Canonical order (the enum's), so equal role sets always look equal.
    const wanted = ALL_ROLES.filter((role) => roles.includes(role));
    if (wanted.length === 0) throw badField('roles', 'At least one role is required.');
    if (actorId === userId && !wanted.includes(Role.ADMIN)) {
      // The last administrator must not be able to lock everyone out by accident.
      throw badField('roles', 'You cannot remove your own ADMIN role.');
    }
    const { row, ended } = await this.dataSource.transaction(async (m) => {
      // NO KEY UPDATE: conflicts with role changes, not with sessions being opened (their FK check).
      const admins: Array<{ id: string; active: boolean }> = await m.query(
        `SELECT id, locked_at IS NULL AS active FROM users WHERE 'ADMIN' = ANY(roles) ORDER BY id FOR NO KEY UPDATE`,
      );
      const adminIds = new Set(admins.map((a) => a.id));
      // Only administrators who can sign in count: demoting the last unlocked one leaves nobody to act.
      const active = new Set(admins.filter((a) => a.active).map((a) => a.id));
      // The role guard read the actor's roles before this lock: demoted meanwhile, they act no more.
      if (actorId !== null && !adminIds.has(actorId)) throw CoreErrors.FORBIDDEN();
      if (active.has(userId) && !wanted.includes(Role.ADMIN) && active.size <= 1) {
        throw CoreErrors.FORBIDDEN({ message: 'The last administrator cannot lose the ADMIN role.' });
      }
      const before: Array<{ roles: Role[] }> = await m.query('SELECT roles FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
      if (!before[0]) throw badField('userId', 'No such user.');
      const updated: [UserRow[], number] = await m.query(
        `UPDATE users SET roles = $2, roles_changed_at = now(), updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [userId, wanted],
      );
      await this.audit.record(m, {
        type: UserEvent.ROLES_CHANGED,
        userId,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { from: before[0].roles, to: wanted, by: actorId ?? 'cli' },
      });
      const reduced = before[0].roles.some((role) => !wanted.includes(role));
      const ended = reduced ? await revokeSessions(m, 'user_id = $1', [userId], SessionRevokedReason.ROLES_REDUCED, request) : [];
      return { row: updated[0][0], ended };
    });
    this.revocations?.markRevoked(...ended);
    return { user: toUser(row), endedSessions: ended.length };
  }

  /** For the CLI: change one role of the account with this email. */
  async changeRoleByEmail(email: string, role: string, grant: boolean): Promise<RoleChange> {
    if (!isRole(role)) throw new Error(`unknown role "${role}" (roles: USER, ADMIN)`);
    const row = await this.sql.one<UserRow>('user_by_email', `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [email.trim().toLowerCase()]);
    if (!row) throw new Error(`no account with email "${email}"`);
    const roles = grant ? [...row.roles, role] : row.roles.filter((r) => r !== role);
    return this.changeRoles(null, row.id, roles, { ip: null, userAgent: 'bouncer-cli' });
  }
}
