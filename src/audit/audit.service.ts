import type { EntityManager } from 'typeorm';
import { AuditEventEntity } from './audit-event.entity';

/** One security event. `type` is one a module declared (FeatureModule.auditEvents); `data` never holds a secret. */
export interface AuditRecord {
  type: string;
  userId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  data?: Record<string, unknown>;
}

export const USER_AGENT_MAX_CHARS = 512;

export class AuditService {
  /** @param types every event type the modules declared: a typo is an error, not a silent new type. */
  constructor(private readonly types: ReadonlySet<string>) {}

  /** Written with the caller's transaction manager, so the event and its change commit together. */
  async record(manager: EntityManager, ...records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const r of records) if (!this.types.has(r.type)) throw new Error(`audit event type ${r.type} is not declared by any module`);
    await manager.insert(
      AuditEventEntity,
      records.map((r) => ({
        type: r.type,
        userId: r.userId ?? null,
        sessionId: r.sessionId ?? null,
        ipAddress: r.ip ?? null,
        userAgent: r.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null,
        data: (r.data ?? {}) as never,
      })),
    );
  }
}
