import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { AuthPayload } from '../sessions/auth-payload.type';
import { LoginResult } from '../sign-in/sign-in.types';
import { LoginInput, RegisterInput } from './password.inputs';
import type { PasswordService } from './password.service';

@Resolver()
export class PasswordResolver {
  constructor(private readonly passwords: PasswordService) {}

  @ChecksCredentials()
  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in.' })
  register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return this.passwords.register(input, ctx.request);
  }

  @ChecksCredentials()
  @Mutation(() => LoginResult, { description: 'Signs in with email or username; accounts with 2FA get a challenge first.' })
  login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext): Promise<typeof LoginResult> {
    return this.passwords.login(input, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Boolean, { description: 'Changes the password and signs out every other session.' })
  async changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    const viewer = viewerOf(ctx);
    await this.passwords.changePassword(viewer.userId, viewer.sessionId, currentPassword, newPassword, ctx.request);
    return true;
  }
}
