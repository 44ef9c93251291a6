import type { DataSource } from 'typeorm';
import { badField } from '../errors/core-errors';
import { AuditEvent, AuditEventConnection } from './audit-event.type';
import { checkUserId } from './admin-locks';

export const AUDIT_PAGE_MAX = 100; // CONTRACT.md: first above 100 is BAD_USER_INPUT
export const ADMIN_AUDIT_PAGE_DEFAULT = 50;
export const MY_AUDIT_PAGE_DEFAULT = 20;
const TYPE_MAX_CHARS = 64; // the column's length
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const BIGINT = /^\d{1,19}$/;

export interface AuditFilter {
  userId?: string | null;
  type?: string | null;
  /** Inclusive. */
  since?: Date | null;
  /** Exclusive. */
  until?: Date | null;
}

interface AuditRow {
  id: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
  data: Record<string, unknown>;
  created_at: Date;
  /** created_at in PostgreSQL's own text form: a JS Date would cut microseconds and repeat rows. */
  cursor_ts: string;
}

export const AUDIT_COLUMNS = 'id, type, user_id, session_id, ip_address, user_agent, data, created_at';

function encodeCursor(row: AuditRow): string {
  return Buffer.from(JSON.stringify({ t: row.cursor_ts, i: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): { t: string; i: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
    if (typeof value.t === 'string' && PG_TIMESTAMPTZ.test(value.t) && typeof value.i === 'string' && BIGINT.test(value.i)) return { t: value.t, i: value.i };
  } catch {
    // fall through
  }
  throw badField('after', 'Not a cursor this service issued.');
}

export function toAuditEvent(row: Omit<AuditRow, 'cursor_ts'>): AuditEvent {
  return Object.assign(new AuditEvent(), {
    id: String(row.id),
    type: row.type,
    userId: row.user_id,
    sessionId: row.session_id,
    ipAddress: row.ip_address,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    data: row.data ?? {},
  });
}

/**
 * The audit log, newest first, in keyset pages on (created_at, id). Each filter has an index that
 * ends in (created_at, id) (src/admin/migrations), so a page is a short backward index scan
 * however many millions of rows the table holds, and no page costs a count.
 */
export class AuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async page(filter: AuditFilter, first: number, after: string | null | undefined): Promise<AuditEventConnection> {
    if (!Number.isInteger(first) || first < 1 || first > AUDIT_PAGE_MAX) throw badField('first', `first must be between 1 and ${AUDIT_PAGE_MAX}.`);
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (n: number) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(params.length));
    };
    if (filter.userId) {
      checkUserId(filter.userId);
      add((n) => `user_id = $${n}`, filter.userId);
    }
    if (filter.type) {
      if (filter.type.length > TYPE_MAX_CHARS) throw badField('type', `type must be at most ${TYPE_MAX_CHARS} characters.`);
      add((n) => `type = $${n}`, filter.type);
    }
    if (filter.since) add((n) => `created_at >= $${n}`, validDate('since', filter.since));
    if (filter.until) add((n) => `created_at < $${n}`, validDate('until', filter.until));
    if (after) {
      const cursor = decodeCursor(after);
      params.push(cursor.t, cursor.i);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(first + 1);
    const rows: AuditRow[] = await this.dataSource.query(
      `SELECT ${AUDIT_COLUMNS}, created_at::text AS cursor_ts FROM audit_events
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, first);
    return Object.assign(new AuditEventConnection(), {
      nodes: page.map(toAuditEvent),
      pageInfo: { endCursor: page.length ? encodeCursor(page[page.length - 1]) : null, hasNextPage: rows.length > first },
    });
  }
}

function validDate(field: string, value: Date): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw badField(field, `${field} must be a date and time.`);
  return value;
}
