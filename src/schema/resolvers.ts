import type { NonEmptyArray } from 'type-graphql';
import { AuthResolver } from '../auth/auth.resolver';
import { SessionsResolver } from '../sessions/sessions.resolver';
import { TwoFactorResolver } from '../two-factor/two-factor.resolver';
import { UsersResolver } from '../users/users.resolver';

/** Every resolver class of the API, one per feature folder. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const resolvers: NonEmptyArray<Function> = [AuthResolver, SessionsResolver, TwoFactorResolver, UsersResolver];
