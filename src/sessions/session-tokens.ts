import type { AccessTokenService } from '../tokens/access-token.service';
import type { Role } from '../users/role.enum';
import { toUser, type UserRow } from '../users/user.type';
import { AuthPayload } from './auth-payload.type';

/**
 * Turns an open session into what the client gets: an access token capped at the session's end, and
 * its refresh token. The roles are those the opening read under its lock when it says (OpenedSession.roles),
 * not those of the row the sign-in read before: a demotion may have committed in between.
 */
export class SessionTokens {
  constructor(private readonly accessTokens: AccessTokenService) {}

  payload(row: UserRow, session: { sessionId: string; refreshToken: string; expiresAt: Date; roles?: Role[] }): AuthPayload {
    const user = session.roles ? { ...row, roles: session.roles } : row;
    const access = this.accessTokens.issue(user.id, session.sessionId, user.roles, session.expiresAt, user.email_verified);
    return Object.assign(new AuthPayload(), {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken: session.refreshToken,
      user: toUser(user),
    });
  }
}
