import { FieldResolver, Resolver, Root } from 'type-graphql';
import { User } from '../users/user.type';
import type { AccountEmailFactsLoader } from './account-email-facts';

/** The email module's fields of User (contract.email.graphql). */
@Resolver(() => User)
export class UserEmailFieldsResolver {
  constructor(private readonly facts: AccountEmailFactsLoader) {}

  @FieldResolver(() => String, { nullable: true, description: 'The address waiting for confirmation after requestEmailChange; null when none is pending.' })
  async pendingEmail(@Root() user: User): Promise<string | null> {
    return (await this.facts.load(user.id))?.pendingEmail ?? null;
  }

  @FieldResolver(() => Boolean, { description: 'False for an account that has no password (signed up through another method).' })
  async hasPassword(@Root() user: User): Promise<boolean> {
    return (await this.facts.load(user.id))?.hasPassword ?? false;
  }
}
