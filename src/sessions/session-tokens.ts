import type { AccessTokenService } from '../tokens/access-token.service';
import { toUser, type UserRow } from '../users/user.type';
import { AuthPayload } from './auth-payload.type';

/** Turns an open session into what the client gets: an access token capped at the session's end, and its refresh token. */
export class SessionTokens {
  constructor(private readonly accessTokens: AccessTokenService) {}

  payload(user: UserRow, session: { sessionId: string; refreshToken: string; expiresAt: Date }): AuthPayload {
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
