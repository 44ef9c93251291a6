import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { UnauthenticatedError } from '../errors/app-errors';
import { Auth } from '../guards/auth.decorator';
import { User } from '../users/user.type';
import { LoginInput, RegisterInput } from './auth.inputs';
import { AuthPayload, LoginResult } from './auth.types';

@Resolver()
export class AuthResolver {
  @Auth()
  @Query(() => User, { description: 'The signed-in account.' })
  async me(@Ctx() ctx: GraphQLContext): Promise<User> {
    const user = await ctx.services.users.findById(viewerOf(ctx).userId);
    if (!user) throw new UnauthenticatedError();
    return user;
  }

  @Mutation(() => AuthPayload, { description: 'Creates an account and signs it in.' })
  register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return ctx.services.auth.register(input, ctx.request);
  }

  @Mutation(() => LoginResult, { description: 'Signs in with email or username; accounts with 2FA get a challenge first.' })
  login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: GraphQLContext): Promise<typeof LoginResult> {
    return ctx.services.auth.login(input, ctx.request);
  }

  @Mutation(() => AuthPayload, { description: 'Trades a refresh token for a new access token and a new refresh token.' })
  refreshToken(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return ctx.services.auth.refresh(refreshToken, ctx.request);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Changes the password and signs out every other session.' })
  async changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    const viewer = viewerOf(ctx);
    await ctx.services.auth.changePassword(viewer.userId, viewer.sessionId, currentPassword, newPassword, ctx.request);
    return true;
  }
}
