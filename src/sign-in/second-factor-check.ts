import type { DataSource, EntityManager } from 'typeorm';
import type { Throttle } from '../abuse/throttle';
import type { AuditRecord, AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { Viewer } from '../context/viewer';
import { MAX_CODE_INPUT_CHARS } from './second-factor-limits';
import { TwoFactorMethod, type SecondFactors } from './second-factor';
import { SecondFactorLimit } from './sign-in.config';
import { SignInErrors } from './sign-in.errors';
import { SignInEvent } from './sign-in.events';
import type { SignInService } from './sign-in.service';

/** Where a code was presented, for the audit trail. */
export type CodeContext = 'confirm' | 'disable' | 'regenerate' | (string & {});

type Outcome<T> = { ok: true; value: T } | { ok: false };

/**
 * A change a signed-in user may make only with a second factor (turning 2FA off, new recovery
 * codes, and whatever later modules guard the same way). Counted on the second-factor limits
 * before the code is looked at, exactly like the second step of a sign-in.
 */
export class SecondFactorCheck {
  constructor(
    private readonly dataSource: DataSource,
    private readonly factors: SecondFactors,
    private readonly throttle: Throttle,
    private readonly audit: AuditService,
    private readonly signIn: SignInService,
  ) {}

  /**
   * Runs `action` in the transaction that spent a valid code. `precondition` runs first in that
   * transaction (lock the row, check the state) and may throw. A wrong code commits only its audit
   * event, then counts as a failure.
   */
  async run<T>(
    viewer: Viewer,
    code: string,
    request: RequestInfo,
    context: CodeContext,
    precondition: (m: EntityManager) => Promise<void>,
    action: (m: EntityManager, method: TwoFactorMethod) => Promise<T>,
  ): Promise<T> {
    return this.withAttempt(viewer, request, async (m): Promise<Outcome<T>> => {
      await precondition(m);
      const method = typeof code === 'string' && code.length <= MAX_CODE_INPUT_CHARS ? await this.factors.consumeCode(m, viewer.userId, code) : null;
      const base = eventBase(viewer, request);
      if (!method) {
        await this.audit.record(m, { ...base, type: SignInEvent.TWO_FACTOR_CHALLENGE_FAILED, data: { context } });
        return { ok: false };
      }
      if (method === TwoFactorMethod.RECOVERY_CODE) await this.audit.record(m, { ...base, type: SignInEvent.RECOVERY_CODE_USED, data: { context } });
      return { ok: true, value: await action(m, method) };
    });
  }

  /** The throttle and transaction around a check whose verdict `work` returns (also for a code of a pending secret). */
  async withAttempt<T>(viewer: Viewer, request: RequestInfo, work: (m: EntityManager) => Promise<Outcome<T>>): Promise<T> {
    const checks = [
      { policy: SecondFactorLimit.BY_ACCOUNT, key: viewer.userId },
      { policy: SecondFactorLimit.BY_ADDRESS, key: request.ip },
    ];
    return this.throttle.attempt(checks, async (attempt) => {
      const outcome: Outcome<T> = await this.dataSource.transaction(work);
      if (!outcome.ok) {
        const { locked } = await attempt.failed();
        if (locked) await this.signIn.recordLock(viewer.userId, viewer.sessionId, request);
        throw SignInErrors.INVALID_TWO_FACTOR_CODE();
      }
      await attempt.succeeded();
      return outcome.value;
    });
  }
}

export function eventBase(viewer: Viewer, request: RequestInfo): Omit<AuditRecord, 'type'> {
  return { userId: viewer.userId, sessionId: viewer.sessionId, ip: request.ip, userAgent: request.userAgent };
}
