import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { CoreErrors } from '../errors/core-errors';
import { Auth } from '../guards/auth.decorator';
import { AuditEventConnection } from './audit-event.type';
import { MY_AUDIT_PAGE_DEFAULT, type AuditLog } from './audit-log.service';
import { REAUTH_WINDOW_MS } from '../sessions/recent-sign-in';
import type { MyAccount } from './my-account.service';
import type { PersonalData } from './personal-data.service';

@Resolver()
export class MyAccountResolver {
  constructor(
    private readonly myAccount: MyAccount,
    private readonly personalData: PersonalData,
    private readonly auditLog: AuditLog,
  ) {}

  @Auth()
  @Query(() => AuditEventConnection, { description: "The security events of the caller's own account, newest first." })
  myAuditEvents(
    @Arg('first', () => Int, { nullable: true, defaultValue: MY_AUDIT_PAGE_DEFAULT }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditEventConnection> {
    return this.auditLog.page({ userId: viewerOf(ctx).userId }, first ?? MY_AUDIT_PAGE_DEFAULT, after);
  }

  @Auth()
  @Query(() => GraphQLJSONObject, {
    description: 'Everything the service holds about the caller (no secrets): profile, sessions, passkeys, linked accounts, audit events.',
  })
  async myData(@Ctx() ctx: GraphQLContext): Promise<Record<string, unknown>> {
    const data = await this.personalData.of(viewerOf(ctx).userId, 'self', ctx.request);
    if (!data) throw CoreErrors.UNAUTHENTICATED();
    return data;
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => Boolean, {
    description:
      `Deletes the caller's own account after re-checking the password, or, for an account without one, when the caller's session was opened by a sign-in within the last ${REAUTH_WINDOW_MS / 60_000} minutes (UNAUTHENTICATED with extensions.maxAge otherwise: sign in again); a code too when 2FA is on.`,
  })
  deleteMyAccount(
    @Arg('password', () => String, { nullable: true }) password: string | null,
    @Arg('code', () => String, { nullable: true }) code: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<boolean> {
    return this.myAccount.delete(viewerOf(ctx), password, code, ctx.request);
  }
}
