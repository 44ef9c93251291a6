import type { EntityManager } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity';

/** Every security event CONTRACT.md names; `data` never holds a secret. */
export const AuditEvent = {
  REGISTERED: 'user.registered',
  LOGIN_SUCCEEDED: 'login.succeeded',
  LOGIN_FAILED: 'login.failed',
  LOGIN_CHALLENGED: 'login.two_factor_challenged',
  ACCOUNT_LOCKED: 'login.account_locked',
  PASSWORD_CHANGED: 'user.password_changed',
  SESSION_REVOKED: 'session.revoked',
  REFRESH_TOKEN_REUSED: 'session.refresh_token_reused',
  ROLES_CHANGED: 'user.roles_changed',
  TWO_FACTOR_ENABLED: 'two_factor.enabled',
  TWO_FACTOR_DISABLED: 'two_factor.disabled',
  TWO_FACTOR_CHALLENGE_FAILED: 'two_factor.challenge_failed',
  TWO_FACTOR_LOCKED: 'two_factor.locked',
  RECOVERY_CODE_USED: 'two_factor.recovery_code_used',
  RECOVERY_CODES_REGENERATED: 'two_factor.recovery_codes_regenerated',
} as const;

export type AuditEventType = (typeof AuditEvent)[keyof typeof AuditEvent];

export interface AuditRecord {
  type: AuditEventType;
  userId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: Record<string, unknown>;
}

export class AuditService {
  /** Written with the caller's transaction manager, so the event and its change commit together. */
  async record(manager: EntityManager, ...records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    await manager.insert(
      AuditEventEntity,
      records.map((r) => ({
        type: r.type,
        userId: r.userId ?? null,
        sessionId: r.sessionId ?? null,
        ipAddress: r.ip ?? null,
        userAgent: r.userAgent?.slice(0, 512) ?? null,
        data: (r.data ?? {}) as never,
      })),
    );
  }
}
