import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import type { EmailChange } from './email-change.service';
import type { PasswordReset } from './password-reset.service';
import type { EmailVerification } from './verification.service';

@Resolver()
export class EmailResolver {
  constructor(
    private readonly verification: EmailVerification,
    private readonly reset: PasswordReset,
    private readonly change: EmailChange,
  ) {}

  @Auth()
  @Mutation(() => Boolean, {
    description: `Sends the verification link to the caller's address again (one is sent on register).
False when the address is already verified. Throttled: RATE_LIMITED with retryAfter.`,
  })
  sendVerificationEmail(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.verification.resend(viewerOf(ctx), ctx.request);
  }

  @Mutation(() => Boolean, { description: "Consumes the token of a verification link: the account's address becomes verified. INVALID_TOKEN otherwise." })
  verifyEmail(@Arg('token') token: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.verification.verify(token, ctx.request);
  }

  @Mutation(() => Boolean, {
    description: `Always true, for known and unknown addresses alike and in the same time: a reset link is
mailed only when the address belongs to an account. Throttled per address and per client.`,
  })
  requestPasswordReset(@Arg('email') email: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.reset.request(email, ctx.request);
  }

  @ChecksCredentials()
  @Mutation(() => Boolean, {
    description: `Consumes a reset token and sets newPassword (the same rules as register). Every session of the
account ends. Does not sign in: the user logs in afterwards (with the second factor, if on).`,
  })
  resetPassword(@Arg('token') token: string, @Arg('newPassword') newPassword: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.reset.reset(token, newPassword, ctx.request);
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Boolean, {
    description: `Re-checks the password, mails a confirmation link to newEmail and a notice to the current
address. EMAIL_TAKEN when newEmail belongs to another account.`,
  })
  requestEmailChange(@Arg('newEmail') newEmail: string, @Arg('password') password: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.change.request(viewerOf(ctx), newEmail, password, ctx.request);
  }

  @Mutation(() => Boolean, { description: 'Consumes the token of an email-change link: the new address replaces the old one, verified.' })
  confirmEmailChange(@Arg('token') token: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.change.confirm(token, ctx.request);
  }
}
