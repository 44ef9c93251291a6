import type { EntityManager } from 'typeorm';
import type { Outbox } from './outbox.service';
import type { SecurityNotice, SecurityNotices } from './security-notices';

/** SecurityNotices through the outbox: queued in the caller's transaction to the account's current address. */
export class OutboxSecurityNotices implements SecurityNotices {
  constructor(private readonly outbox: Outbox) {}

  async notify(m: EntityManager, userId: string, notice: SecurityNotice, data: Record<string, string> = {}): Promise<void> {
    const [account]: Array<{ email: string }> = await m.query('SELECT email FROM users WHERE id = $1', [userId]);
    if (!account) return; // deleted in this very transaction: nobody to tell
    await this.outbox.enqueue(m, { kind: notice, to: account.email, userId, data });
  }
}
