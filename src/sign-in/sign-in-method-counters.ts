import type { EntityManager } from 'typeorm';
import { InjectionToken, type Container } from '../app/container';

/**
 * Counts one kind of way into an account (OAuth links, passkeys, ...) for the module that owns it.
 * A module that removes a way in (unlinking a provider, deleting a passkey) asks every other
 * module's counter, plus `password_hash IS NOT NULL`, before it removes the last one. Each module
 * adds its counter in `register` (`addSignInMethodCounter`); readers ask at call time, so the
 * order of the modules list does not matter, and a module that is not there counts nothing.
 */
export interface SignInMethodCounter {
  /** The owning module's name: a reader skips its own. */
  readonly name: string;
  count(m: EntityManager, userId: string): Promise<number>;
}

const SignInMethodCountersToken = new InjectionToken<SignInMethodCounter[]>('SignInMethodCounters');

export function addSignInMethodCounter(c: Container, counter: SignInMethodCounter): void {
  if (c.has(SignInMethodCountersToken)) c.get(SignInMethodCountersToken).push(counter);
  else c.set(SignInMethodCountersToken, [counter]);
}

export function signInMethodCounters(c: Container): readonly SignInMethodCounter[] {
  return c.has(SignInMethodCountersToken) ? c.get(SignInMethodCountersToken) : [];
}
