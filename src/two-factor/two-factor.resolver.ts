import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import type { TwoFactorEnrolment } from './enrolment.service';
import { RecoveryCodes, TwoFactorSetup } from './two-factor.types';

@Resolver()
export class TwoFactorResolver {
  constructor(private readonly enrolment: TwoFactorEnrolment) {}

  @Auth()
  @ChecksCredentials()
  @Mutation(() => TwoFactorSetup, { description: 'Starts TOTP enrolment (password re-checked); call confirmTwoFactor next.' })
  enableTwoFactor(@Arg('password') password: string, @Ctx() ctx: GraphQLContext): Promise<TwoFactorSetup> {
    return this.enrolment.enable(viewerOf(ctx), password, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => RecoveryCodes, { description: 'Turns 2FA on with a code from the enrolled app; returns the recovery codes once.' })
  confirmTwoFactor(@Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<RecoveryCodes> {
    return this.enrolment.confirm(viewerOf(ctx), code, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Boolean, { description: 'Turns 2FA off; needs the password and a TOTP or recovery code.' })
  disableTwoFactor(@Arg('password') password: string, @Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.enrolment.disable(viewerOf(ctx), password, code, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => RecoveryCodes, { description: 'Replaces every recovery code with a new set; needs a TOTP or recovery code.' })
  regenerateRecoveryCodes(@Arg('code') code: string, @Ctx() ctx: GraphQLContext): Promise<RecoveryCodes> {
    return this.enrolment.regenerateRecoveryCodes(viewerOf(ctx), code, ctx.request);
  }
}
