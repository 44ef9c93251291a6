import type { EntityManager } from 'typeorm';
import type { RequestInfo } from '../context/request-info';
import { rowsOf } from '../db/sql';
import type { MailboxProvenHooks } from '../users/mailbox-proven';

/**
 * A spent link proved the account's mailbox: `mark` sets the address verified (with whatever else
 * the flow changes), after the row was locked and its state read, so that the MailboxProvenHooks
 * run when, and only when, this is the address's first proof. Returns the sessions they ended.
 */
export async function proveMailbox(
  m: EntityManager,
  hooks: MailboxProvenHooks,
  userId: string,
  request: RequestInfo,
  mark: () => Promise<unknown>,
): Promise<string[]> {
  // NO KEY UPDATE, as the UPDATE would take: a link being added to the account waits for this commit (src/oauth).
  const [before] = await rowsOf<{ email: string; email_verified: boolean }>(m, 'SELECT email, email_verified FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
  await mark();
  return before && !before.email_verified ? hooks.run(m, { id: userId, email: before.email }, request) : [];
}
