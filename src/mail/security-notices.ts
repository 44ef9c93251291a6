import type { EntityManager } from 'typeorm';
import { InjectionToken } from '../app/container';

/** Mails that tell an account's owner something security-relevant happened (CONTRACT.md, Email). Never hold a token. */
export type SecurityNotice = 'password_changed' | 'email_change_requested' | 'two_factor_disabled' | 'passkey_added';

/**
 * Queues a notice in the caller's transaction (a transactional outbox): it is sent if and only if the
 * change commits, and never makes the request wait for SMTP. Registered by the mail module, which
 * comes first in src/app/modules.ts so that every later module can use it.
 */
export interface SecurityNotices {
  notify(m: EntityManager, userId: string, notice: SecurityNotice, data?: Record<string, string>): Promise<void>;
}

export const SecurityNoticesToken = new InjectionToken<SecurityNotices>('SecurityNotices');
