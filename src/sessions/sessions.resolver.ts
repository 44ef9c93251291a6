import { Arg, Ctx, Extensions, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { AuthPayload } from './auth-payload.type';
import type { SessionTokens } from './session-tokens';
import { SESSIONS_LIST_MAX, SessionRevokedReason, type SessionsService } from './sessions.service';
import { Session } from './session.type';

@Resolver()
export class SessionsResolver {
  constructor(
    private readonly sessionsService: SessionsService,
    private readonly tokens: SessionTokens,
  ) {}

  @Mutation(() => AuthPayload, { description: 'Trades a refresh token for a new access token and a new refresh token.' })
  async refreshToken(@Arg('refreshToken') refreshToken: string, @Ctx() ctx: GraphQLContext): Promise<AuthPayload> {
    const session = await this.sessionsService.refresh(refreshToken, ctx.request);
    return this.tokens.payload(session.user, session);
  }

  @Auth()
  // The query cost rule prices the list as this many entries, times what each one selects.
  @Extensions({ maxItems: SESSIONS_LIST_MAX })
  @Query(() => [Session], { description: "The caller's live sessions, most recently used first." })
  sessions(@Ctx() ctx: GraphQLContext): Promise<Session[]> {
    const viewer = viewerOf(ctx);
    return this.sessionsService.listLive(viewer.userId, viewer.sessionId);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Ends the current session.' })
  logout(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    const viewer = viewerOf(ctx);
    return this.sessionsService.revokeOwn(viewer.userId, viewer.sessionId, SessionRevokedReason.LOGOUT, ctx.request);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Ends every session of the caller, this one included.' })
  async logoutAll(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    await this.sessionsService.logoutAll(viewerOf(ctx).userId, ctx.request);
    return true;
  }

  @Auth()
  @Mutation(() => Boolean, { description: "Ends one of the caller's sessions." })
  revokeSession(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.sessionsService.revokeOwn(viewerOf(ctx).userId, id, SessionRevokedReason.REVOKED_BY_USER, ctx.request);
  }
}
