import type { AuditService } from '../audit/audit.service';
import { rowsOf } from '../db/sql';
import { revokeSessions, SessionRevokedReason } from '../sessions/session-revocation';
import type { MailboxProvenHook } from '../users/mailbox-proven';
import { OAuthEvent } from './oauth.events';

/**
 * A MailboxProvenHook against reverse account takeover. A provider that does not vouch for an
 * address can still create an account holding it (unverified); until the address is proven,
 * whoever holds that account never showed they own it. When its real owner proves the mailbox
 * (verifyEmail, or a reset through the emailed link) and starts using the account, a provider link
 * made on the unproven claim would still sign the claimant in. So at the first proof a link stays
 * only when its provider vouched for this very address (email_verified, same address); every other
 * link goes (an unverified claim, or a link to another address added while signed in to the
 * unproven account), audited as oauth.unlinked, and every session of the account ends: any of them
 * may have come through such a link.
 */
export function dropUnprovenLinks(audit: AuditService): MailboxProvenHook {
  return async (m, account, request) => {
    const dropped = await rowsOf<{ id: string; provider: string; email_verified: boolean }>(
      m,
      `DELETE FROM linked_accounts WHERE user_id = $1 AND NOT COALESCE(email_verified AND lower(email) = $2, false)
       RETURNING id, provider, email_verified`,
      [account.id, account.email.toLowerCase()],
    );
    if (dropped.length === 0) return [];
    await audit.record(
      m,
      ...dropped.map((link) => ({
        type: OAuthEvent.UNLINKED,
        userId: account.id,
        ip: request.ip,
        userAgent: request.userAgent,
        data: { provider: link.provider, linkedAccountId: link.id, reason: SessionRevokedReason.ADDRESS_PROVEN, providerEmailVerified: link.email_verified },
      })),
    );
    return revokeSessions(m, 'user_id = $1', [account.id], SessionRevokedReason.ADDRESS_PROVEN, request);
  };
}
