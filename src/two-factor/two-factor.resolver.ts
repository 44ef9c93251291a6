import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { AuthPayload } from '../auth/auth.types';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { VerifyTwoFactorInput } from './two-factor.inputs';
import { RecoveryCodes, TwoFactorSetup } from './two-factor.types';

@Resolver()
export class TwoFactorResolver {
  @Auth()
  @Mutation(() => TwoFactorSetup, { description: 'Starts TOTP enrolment (password re-checked); call confirmTwoFactor next.' })
  enableTwoFactor(@Arg('password') password: string, @Ctx() ctx: GraphQLContext): Promise<TwoFactorSetup> {
    return ctx.services.twoFactor.enable(viewerOf(ctx), password);
  }

  @Auth()
  @Mutation(() => RecoveryCodes, { description: 'Turns 2FA on with a code from the enrolled app; returns the recovery codes once.' })
  confirmTwoFactor(@Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<RecoveryCodes> {
    return ctx.services.twoFactor.confirm(viewerOf(ctx), code, ctx.request);
  }

  @Mutation(() => AuthPayload, { description: 'Finishes a login that returned a TwoFactorChallenge.' })
  verifyTwoFactor(@Arg('input', () => VerifyTwoFactorInput) input: VerifyTwoFactorInput, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    return ctx.services.twoFactor.verify(input, ctx.request);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Turns 2FA off; needs the password and a TOTP or recovery code.' })
  disableTwoFactor(@Arg('password') password: string, @Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.twoFactor.disable(viewerOf(ctx), password, code, ctx.request);
  }

  @Auth()
  @Mutation(() => RecoveryCodes, { description: 'Replaces every recovery code with a new set; needs a TOTP or recovery code.' })
  regenerateRecoveryCodes(@Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<RecoveryCodes> {
    return ctx.services.twoFactor.regenerateRecoveryCodes(viewerOf(ctx), code, ctx.request);
  }
}
