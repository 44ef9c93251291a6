import { Arg, Ctx, Extensions, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { SESSIONS_LIST_MAX, SessionRevokedReason } from './sessions.service';
import { Session } from './session.type';

@Resolver()
export class SessionsResolver {
  @Auth()
  // The query cost rule prices the list as this many entries, times what each one selects.
  @Extensions({ maxItems: SESSIONS_LIST_MAX })
  @Query(() => [Session], { description: "The caller's live sessions, most recently used first." })
  sessions(@Ctx() ctx: GraphQLContext): Promise<Session[]> {
    const viewer = viewerOf(ctx);
    return ctx.services.sessions.listLive(viewer.userId, viewer.sessionId);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Ends the current session.' })
  logout(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    const viewer = viewerOf(ctx);
    return ctx.services.sessions.revokeOwn(viewer.userId, viewer.sessionId, SessionRevokedReason.LOGOUT, ctx.request);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Ends every session of the caller, this one included.' })
  async logoutAll(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    await ctx.services.sessions.logoutAll(viewerOf(ctx).userId, ctx.request);
    return true;
  }

  @Auth()
  @Mutation(() => Boolean, { description: "Ends one of the caller's sessions." })
  revokeSession(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.sessions.revokeOwn(viewerOf(ctx).userId, id, SessionRevokedReason.REVOKED_BY_USER, ctx.request);
  }
}
