import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { AuthPayload } from '../sessions/auth-payload.type';
import type { PasskeyRegistration } from './passkey-registration.service';
import type { PasskeySignIn } from './passkey-sign-in.service';
import { Passkey, PasskeyOptions } from './passkey.types';

type Json = Record<string, unknown>;

@Resolver()
export class PasskeysResolver {
  constructor(
    private readonly registration: PasskeyRegistration,
    private readonly passkeySignIn: PasskeySignIn,
  ) {}

  @Auth()
  @Query(() => [Passkey], { description: "The caller's passkeys, oldest first." })
  passkeys(@Ctx() ctx: GraphQLContext): Promise<Passkey[]> {
    return this.registration.list(viewerOf(ctx).userId);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => PasskeyOptions, { description: 'Starts registering a passkey for the caller. password is required when the account has one; without one, the session must come from a sign-in within the last 5 minutes (UNAUTHENTICATED with extensions.maxAge otherwise).' })
  startPasskeyRegistration(@Arg('password', () => String, { nullable: true }) password: string | null, @Ctx() ctx: GraphQLContext): Promise<PasskeyOptions> {
    return this.registration.start(viewerOf(ctx), password, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Passkey, { description: "Verifies the authenticator's registration response (the JSON of PublicKeyCredential) and stores the passkey." })
  finishPasskeyRegistration(
    @Arg('challengeId', () => ID) challengeId: string,
    @Arg('response', () => GraphQLJSONObject) response: Json,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Passkey> {
    return this.registration.finish(viewerOf(ctx), challengeId, response, name, ctx.request);
  }

  @Mutation(() => PasskeyOptions, { description: 'Starts a passwordless sign-in with a discoverable credential (no identifier needed).' })
  startPasskeyLogin(@Ctx() ctx: GraphQLContext): Promise<PasskeyOptions> {
    return this.passkeySignIn.startLogin(ctx.request);
  }

  @ChecksCredentials()
  @Mutation(() => AuthPayload, { description: 'Verifies the assertion (user verification required) and opens a session.' })
  finishPasskeyLogin(@Arg('challengeId', () => ID) challengeId: string, @Arg('response', () => GraphQLJSONObject) response: Json, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return this.passkeySignIn.finishLogin(challengeId, response, ctx.request);
  }

  @Mutation(() => PasskeyOptions, { description: "Starts answering a login's TwoFactorChallenge with one of the account's passkeys." })
  startTwoFactorPasskey(@Arg('challengeToken') challengeToken: string, @Ctx() ctx: GraphQLContext): Promise<PasskeyOptions> {
    return this.passkeySignIn.startSecondFactor(challengeToken, ctx.request);
  }

  @ChecksCredentials()
  @Mutation(() => AuthPayload, { description: 'Answers the TwoFactorChallenge with the passkey assertion; opens the session.' })
  verifyTwoFactorPasskey(
    @Arg('challengeToken') challengeToken: string,
    @Arg('challengeId', () => ID) challengeId: string,
    @Arg('response', () => GraphQLJSONObject) response: Json,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuthPayload> {
    return this.passkeySignIn.verifySecondFactor(challengeToken, challengeId, response, ctx.request);
  }

  @Auth()
  @Mutation(() => Passkey, { description: 'Renames one of the caller\'s passkeys.' })
  renamePasskey(@Arg('id', () => ID) id: string, @Arg('name') name: string, @Ctx() ctx: GraphQLContext): Promise<Passkey> {
    return this.registration.rename(viewerOf(ctx), id, name);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Boolean, { description: "Removes one of the caller's passkeys. password is required when the account has one; without one, a sign-in within the last 5 minutes, as for startPasskeyRegistration." })
  deletePasskey(@Arg('id', () => ID) id: string, @Arg('password', () => String, { nullable: true }) password: string | null, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.registration.remove(viewerOf(ctx), id, password, ctx.request);
  }
}
