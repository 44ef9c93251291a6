import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { CeremonyKind } from './ceremonies';
import { PasskeyEvent, type RejectionReason } from './passkeys.events';

export interface RejectionContext {
  ceremony: CeremonyKind;
  request: RequestInfo;
  userId?: string | null;
  sessionId?: string | null;
  passkeyId?: string;
  /** The verifier's own words (origin, RP ID, flags): for the log, never for the client. */
  detail?: string;
  data?: Record<string, unknown>;
}

/**
 * A refused ceremony: the client always gets the same PASSKEY_REJECTED; the reason goes to the
 * audit trail (passkey.rejected, in the caller's transaction) and the verifier's detail to the log,
 * where an operator finds a misconfigured WEBAUTHN_ORIGINS or a cloned authenticator.
 */
export class PasskeyRejections {
  constructor(
    private readonly audit: AuditService,
    private readonly logger: Logger,
  ) {}

  async record(m: EntityManager, reason: RejectionReason, ctx: RejectionContext): Promise<void> {
    const level = reason === 'counter_not_increasing' ? 'warn' : 'info';
    this.logger[level]({ reason, ceremony: ctx.ceremony, passkeyId: ctx.passkeyId, detail: ctx.detail }, 'passkey ceremony refused');
    await this.audit.record(m, {
      type: PasskeyEvent.REJECTED,
      userId: ctx.userId ?? null,
      sessionId: ctx.sessionId ?? null,
      ip: ctx.request.ip,
      userAgent: ctx.request.userAgent,
      data: { reason, ceremony: ctx.ceremony, ...(ctx.passkeyId ? { passkeyId: ctx.passkeyId } : {}), ...ctx.data },
    });
  }
}
