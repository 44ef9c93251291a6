import { Arg, Ctx, Field, InputType, Mutation, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { AuthPayload } from '../sessions/auth-payload.type';
import { MAX_CODE_INPUT_CHARS } from './second-factor-limits';
import type { SecondFactors } from './second-factor';
import type { SignInService } from './sign-in.service';

@InputType()
export class VerifyTwoFactorInput {
  @Field()
  challengeToken!: string;

  @Field({ description: 'A current TOTP code, or one unused recovery code.' })
  code!: string;
}

@Resolver()
export class SignInResolver {
  constructor(
    private readonly signIn: SignInService,
    private readonly factors: SecondFactors,
  ) {}

  @ChecksCredentials()
  @Mutation(() => AuthPayload, { description: 'Finishes a login that returned a TwoFactorChallenge.' })
  verifyTwoFactor(@Arg('input', () => VerifyTwoFactorInput) input: VerifyTwoFactorInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    const code = typeof input.code === 'string' && input.code.length <= MAX_CODE_INPUT_CHARS ? input.code : null;
    return this.signIn.completeChallenge(
      input.challengeToken,
      ctx.request,
      (m, account) => (code === null ? Promise.resolve(null) : this.factors.consumeCode(m, account.id, code)),
      (account) => (code === null ? null : this.factors.claimCode(account, code)),
    );
  }
}
