import type { EntityManager } from 'typeorm';
import type { RequestInfo } from '../context/request-info';

/** What a hook learns about a new account. */
export interface CreatedAccount {
  id: string;
  email: string;
  email_verified: boolean;
}

export type AccountCreatedHook = (m: EntityManager, account: CreatedAccount, request: RequestInfo) => Promise<void>;

/**
 * Work that belongs to the creation of an account, run in the transaction that creates it (the
 * verification mail of the email module). Every way of creating an account calls `run`; modules
 * later in the list `add` their hook at registration, so the creating module needs no import of them.
 */
export class AccountCreatedHooks {
  private readonly hooks: AccountCreatedHook[] = [];

  add(hook: AccountCreatedHook): void {
    this.hooks.push(hook);
  }

  async run(m: EntityManager, account: CreatedAccount, request: RequestInfo): Promise<void> {
    for (const hook of this.hooks) await hook(m, account, request);
  }
}
