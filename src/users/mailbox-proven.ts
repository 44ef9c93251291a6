import type { EntityManager } from 'typeorm';
import type { RequestInfo } from '../context/request-info';

/** The account whose address was just proven for the first time. */
export interface ProvenAccount {
  id: string;
  /** The address the mailbox proof was for (the account's, normalised). */
  email: string;
}

/** Returns the sessions it ended (the caller marks them revoked once committed). */
export type MailboxProvenHook = (m: EntityManager, account: ProvenAccount, request: RequestInfo) => Promise<string[]>;

/**
 * Work owed when an account's address is proven by its mailbox for the first time (an emailed link
 * spent: verifyEmail, resetPassword), run in that transaction with the account's row locked.
 * Until then whoever held the account never showed they own the address; a module whose ways in
 * could have been added on that unproven claim (the OAuth module's provider links) takes them
 * back here. Modules later in the list `add` their hook at registration; the email module runs them.
 */
export class MailboxProvenHooks {
  private readonly hooks: MailboxProvenHook[] = [];

  add(hook: MailboxProvenHook): void {
    this.hooks.push(hook);
  }

  async run(m: EntityManager, account: ProvenAccount, request: RequestInfo): Promise<string[]> {
    const ended: string[] = [];
    for (const hook of this.hooks) ended.push(...(await hook(m, account, request)));
    return ended;
  }
}
