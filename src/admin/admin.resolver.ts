import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { Role } from '../users/role.enum';
import { User } from '../users/user.type';
import type { AccountAdmin } from './account-admin.service';
import { AuditEventConnection } from './audit-event.type';
import { ADMIN_AUDIT_PAGE_DEFAULT, type AuditLog } from './audit-log.service';

@Resolver()
export class AdminResolver {
  constructor(
    private readonly accounts: AccountAdmin,
    private readonly auditLog: AuditLog,
  ) {}

  @Auth(Role.ADMIN)
  @Query(() => AuditEventConnection, { description: 'Newest first. first above 100 is BAD_USER_INPUT.' })
  auditEvents(
    @Arg('first', () => Int, { nullable: true, defaultValue: ADMIN_AUDIT_PAGE_DEFAULT }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('userId', () => ID, { nullable: true }) userId: string | null,
    @Arg('type', () => String, { nullable: true }) type: string | null,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Arg('until', () => Date, { nullable: true }) until: Date | null,
  ): Promise<AuditEventConnection> {
    return this.auditLog.page({ userId, type, since, until }, first ?? ADMIN_AUDIT_PAGE_DEFAULT, after);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => User, { description: 'Locks the account: its sessions end at once and it cannot sign in until unlocked.' })
  lockUser(
    @Arg('userId', () => ID) userId: string,
    @Arg('reason', () => String, { nullable: true }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<User> {
    return this.accounts.lock(viewerOf(ctx).userId, userId, reason, ctx.request);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => User)
  unlockUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<User> {
    return this.accounts.unlock(viewerOf(ctx).userId, userId, ctx.request);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => Int, { description: 'Ends every session of the account; returns how many ended.' })
  revokeUserSessions(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<number> {
    return this.accounts.revokeSessions(viewerOf(ctx).userId, userId, ctx.request);
  }

  @Auth(Role.ADMIN)
  @Mutation(() => Boolean, { description: 'Deletes the account and its credentials; audit events stay, without personal data.' })
  deleteUser(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.accounts.delete(viewerOf(ctx).userId, userId, ctx.request);
  }
}
