import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Encryptor } from '../crypto/encryption';
import { CoreConfigToken } from '../app/tokens';
import { Sql } from '../db/sql';
import { defineModule } from '../module';
import { AccessTokenService } from '../tokens/access-token.service';
import { SessionWritePaths1733200000001 } from './migrations/1733200000001-session-write-paths';
import { RefreshGraceOnOwnRow1764700031100 } from './migrations/1764700031100-refresh-grace-on-own-row';
import { RefreshTokenEntity } from './refresh-token.entity';
import { RevocationWatcher } from './revocation-watcher';
import { SessionEntity } from './session.entity';
import { SessionEvent } from './session.events';
import { SessionTokens } from './session-tokens';
import { SessionsResolver } from './sessions.resolver';
import { RecentSignIn } from './recent-sign-in';
import { SessionsService } from './sessions.service';

/** Ended sessions stay visible to the user's and the auditor's view this long, seconds. */
const ENDED_SESSION_RETENTION_SECONDS = 30 * 24 * 60 * 60;

/** Sessions, rotating refresh tokens, revocation. */
export const sessionsModule = defineModule({
  name: 'sessions',
  entities: [SessionEntity, RefreshTokenEntity],
  migrations: [SessionWritePaths1733200000001, RefreshGraceOnOwnRow1764700031100],
  auditEvents: Object.values(SessionEvent),
  secretFields: ['refreshToken', 'accessToken'],
  resolvers: [SessionsResolver],
  cleanupJobs: (_config, core) => [
    {
      // A token retired longer ago than the idle limit belongs to a session used since, or dead. It
      // was created before it was retired: created_at (a BRIN index) narrows the scan.
      name: 'refreshTokens',
      sql: `DELETE FROM refresh_tokens WHERE id IN (
              SELECT id FROM refresh_tokens
               WHERE created_at < now() - make_interval(secs => $1) AND retired_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params: [core.sessionIdleSeconds],
    },
    {
      name: 'sessions',
      sql: `DELETE FROM sessions WHERE id IN (
              SELECT id FROM sessions
               WHERE (revoked_at < now() - make_interval(secs => $1)) OR (expires_at < now() - make_interval(secs => $1))
               LIMIT $2)`,
      params: [ENDED_SESSION_RETENTION_SECONDS],
    },
  ],
  register(c, _config) {
    const config = c.get(CoreConfigToken);
    const tokens = c.set(SessionTokens, new SessionTokens(c.get(AccessTokenService)));
    const sessions = c.set(
      SessionsService,
      new SessionsService(c.get(DataSource), c.get(Sql), c.get(AuditService), c.get(Encryptor), c.get(RevocationWatcher), {
        idleSeconds: config.sessionIdleSeconds,
        absoluteSeconds: config.sessionAbsoluteSeconds,
        reuseGraceSeconds: config.refreshReuseGraceSeconds,
        maxPerUser: config.sessionMaxPerUser,
      }),
    );
    c.set(RecentSignIn, new RecentSignIn(sessions));
    c.set(SessionsResolver, new SessionsResolver(sessions, tokens));
  },
});
