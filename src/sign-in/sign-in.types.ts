import { createUnionType, Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { AuthPayload } from '../sessions/auth-payload.type';
import { TwoFactorMethod } from './second-factor';

registerEnumType(TwoFactorMethod, { name: 'TwoFactorMethod', description: 'A way to pass a two-factor challenge.' });

@ObjectType({ description: 'Returned by a sign-in when the account has two-factor authentication on.' })
export class TwoFactorChallenge {
  @Field()
  challengeToken!: string;

  @Field(() => Int, { description: 'Seconds until challengeToken expires.' })
  expiresIn!: number;

  @Field(() => [TwoFactorMethod], { description: 'The ways this account can pass the challenge.' })
  methods!: TwoFactorMethod[];
}

export const LoginResult = createUnionType({
  name: 'LoginResult',
  types: () => [AuthPayload, TwoFactorChallenge] as const,
  resolveType: (value) => ('challengeToken' in value ? TwoFactorChallenge : AuthPayload),
});

export type SignInResult = AuthPayload | TwoFactorChallenge;
