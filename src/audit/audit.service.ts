import type { EntityManager } from 'typeorm';
import type { Statement } from '../db/statement';
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
    this.checkTypes(records);
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

  /**
   * The same rows as a step of a one-statement write (src/db/statement.ts), inserted only when the
   * step `gate` yields a row: the event commits with the change it records, in its statement. The
   * text does not depend on how many records there are (arrays are bound), so it can be prepared.
   */
  insertStep(q: Statement, name: string, gate: string, records: AuditRecord[]): string {
    this.checkTypes(records);
    const column = (pick: (r: AuditRecord) => unknown): string => q.bind(records.map(pick));
    return q.with(
      name,
      `INSERT INTO audit_events (type, user_id, session_id, ip_address, user_agent, data)
       SELECT t, u, s, i, a, d::jsonb
         FROM unnest(${column((r) => r.type)}::text[], ${column((r) => r.userId ?? null)}::uuid[], ${column((r) => r.sessionId ?? null)}::uuid[],
                     ${column((r) => r.ip ?? null)}::text[], ${column((r) => r.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null)}::text[],
                     ${column((r) => JSON.stringify(r.data ?? {}))}::text[]) AS x(t, u, s, i, a, d)
        WHERE EXISTS (SELECT 1 FROM ${gate})`,
    );
  }

  private checkTypes(records: AuditRecord[]): void {
    for (const r of records) if (!this.types.has(r.type)) throw new Error(`audit event type ${r.type} is not declared by any module`);
  }
}
