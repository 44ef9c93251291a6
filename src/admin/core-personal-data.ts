import type { DataSource } from 'typeorm';
import type { PersonalDataReader } from '../module';
import { AUDIT_COLUMNS, toAuditEvent } from './audit-log.service';

/** Newest audit events in a GraphQL export; older ones are counted (the CLI's export has no cap). */
export const EXPORT_AUDIT_EVENTS_MAX = 10_000;

type Row = Record<string, unknown>;

/** Dates as ISO text, so the export reads the same through GraphQL, the CLI and a file. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/**
 * What the core tables hold about an account (users, sessions, two-factor state and challenges,
 * audit events), column by column, leaving out every secret: the password hash, TOTP secrets,
 * recovery-code and token hashes, and the encrypted grace copies of refresh tokens.
 */
export function corePersonalData(dataSource: DataSource, auditLimit: number | null): PersonalDataReader {
  const q = (sql: string, params: unknown[]): Promise<Row[]> => dataSource.query(sql, params);
  return async (userId) => {
    const [account] = await q(
      `SELECT id, email, username, email_verified AS "emailVerified", roles, created_at AS "createdAt", updated_at AS "updatedAt",
              locked_at AS "lockedAt", password_changed_at AS "passwordChangedAt", roles_changed_at AS "rolesChangedAt",
              failed_logins AS "consecutiveFailedLogins", password_hash IS NOT NULL AS "hasPassword",
              two_factor_enabled, totp_pending_secret_enc IS NOT NULL AS enrolment_pending
         FROM users WHERE id = $1`,
      [userId],
    );
    if (!account) return {};
    const { two_factor_enabled: enabled, enrolment_pending: enrolmentPending, ...profile } = account;
    const [codes] = await q(`SELECT count(*)::int AS total, count(*) FILTER (WHERE used_at IS NULL)::int AS unused FROM recovery_codes WHERE user_id = $1`, [userId]);
    const sessions = await q(
      `SELECT id, created_at AS "createdAt", last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt",
              revoked_reason AS "revokedReason", user_agent AS "userAgent", ip_address AS "ipAddress"
         FROM sessions WHERE user_id = $1 ORDER BY created_at DESC`,
      [userId],
    );
    const challenges = await q(
      `SELECT id, created_at AS "createdAt", expires_at AS "expiresAt", consumed_at AS "consumedAt", attempts,
              ip_address AS "ipAddress", user_agent AS "userAgent"
         FROM two_factor_challenges WHERE user_id = $1 ORDER BY created_at DESC`,
      [userId],
    );
    const limit = auditLimit ?? null;
    const events = await q(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, [userId, limit]);
    const [{ n: total }] = limit === null ? [{ n: events.length }] : await q('SELECT count(*)::int AS n FROM audit_events WHERE user_id = $1', [userId]);
    return plain({
      account: profile,
      twoFactor: { enabled, enrolmentPending, recoveryCodes: codes },
      sessions,
      twoFactorChallenges: challenges,
      auditEvents: events.map((e) => ({ ...toAuditEvent(e as never) })),
      ...(Number(total) > events.length ? { auditEventsOmitted: Number(total) - events.length } : {}),
    }) as Record<string, unknown>;
  };
}
