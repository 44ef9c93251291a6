import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { LoggerToken } from '../app/tokens';
import { AuditService } from '../audit/audit.service';
import { SecurityNoticesToken } from '../mail/security-notices';
import { RecentSignIn } from '../sessions/recent-sign-in';
import { defineModule } from '../module';
import { Sql } from '../db/sql';
import { addSignInMethodCounter, signInMethodCounters } from '../sign-in/sign-in-method-counters';
import { PasswordService } from '../password/password.service';
import { Challenges } from '../sign-in/challenges';
import { SignInService } from '../sign-in/sign-in.service';
import { Ceremonies } from './ceremonies';
import { demoRoutes } from './demo/demo.routes';
import { PasskeyChallengeEntity } from './passkey-challenge.entity';
import { PasskeyEntity } from './passkey.entity';
import { PasskeyFactor } from './passkey.factor';
import { PasskeyRegistration } from './passkey-registration.service';
import { PasskeyRejections } from './passkey-rejections';
import { PasskeySignIn } from './passkey-sign-in.service';
import { PasskeyStore } from './passkey-store';
import { passkeyPolicies, readPasskeysConfig, type PasskeysConfig } from './passkeys.config';
import { PasskeyErrors } from './passkeys.errors';
import { PasskeyEvent } from './passkeys.events';
import { PasskeysResolver } from './passkeys.resolver';
import { Passkeys1733300000000 } from './migrations/1733300000000-passkeys';
import { WebAuthnUserHandleEntity } from './webauthn-user-handle.entity';
import { WebAuthn } from './webauthn';

/** Used ceremonies are deleted at once; unused ones are kept an hour past their expiry, then pruned. */
const CEREMONY_RETENTION_SECONDS = 60 * 60;

/**
 * Passkeys (WebAuthn): registration while signed in, passwordless sign-in with a discoverable
 * credential (two factors in one), and a passkey as the second step of a password sign-in.
 */
export const passkeysModule = defineModule<PasskeysConfig>({
  name: 'passkeys',
  readConfig: readPasskeysConfig,
  entities: [PasskeyEntity, PasskeyChallengeEntity, WebAuthnUserHandleEntity],
  migrations: [Passkeys1733300000000],
  errors: PasskeyErrors.catalogue,
  auditEvents: Object.values(PasskeyEvent),
  throttlePolicies: passkeyPolicies,
  // Assertions and attestations hold no secret, but nothing in them belongs in a log line either.
  secretFields: ['response', 'attestationObject', 'clientDataJSON', 'authenticatorData', 'signature', 'userHandle'],
  resolvers: [PasskeysResolver],
  secondFactors: (c) => [c.set(PasskeyFactor, new PasskeyFactor())],
  cleanupJobs: () => [
    {
      name: 'passkeyChallenges',
      sql: `DELETE FROM passkey_challenges WHERE id IN (
              SELECT id FROM passkey_challenges WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params: [CEREMONY_RETENTION_SECONDS],
    },
  ],
  register(c, config) {
    const dataSource = c.get(DataSource);
    const store = c.set(PasskeyStore, new PasskeyStore(dataSource, c.get(Sql)));
    const ceremonies = c.set(Ceremonies, new Ceremonies(dataSource));
    const webauthn = c.set(WebAuthn, new WebAuthn(config));
    const rejections = new PasskeyRejections(c.get(AuditService), c.get(LoggerToken));
    // The mail module comes first in the list: a new passkey is always announced.
    const notices = c.get(SecurityNoticesToken);
    const registration = c.set(
      PasskeyRegistration,
      new PasskeyRegistration(dataSource, store, ceremonies, webauthn, c.get(PasswordService), c.get(AuditService), c.get(Throttle), rejections, notices, c.get(RecentSignIn), () => signInMethodCounters(c)),
    );
    const signIn = c.set(
      PasskeySignIn,
      new PasskeySignIn(dataSource, store, ceremonies, webauthn, c.get(SignInService), c.get(Challenges), c.get(Throttle), c.get(AuditService), rejections),
    );
    c.set(PasskeysResolver, new PasskeysResolver(registration, signIn));
    // A passkey is a way in: unlinking the last OAuth account of a passwordless account counts it.
    addSignInMethodCounter(c, {
      name: 'passkeys',
      count: async (m, userId) => Number((await m.query('SELECT count(*)::int AS n FROM passkeys WHERE user_id = $1', [userId]))[0]?.n ?? 0),
    });
  },
  // The public key is no secret, but it is not the user's to read either: names, dates and kinds only.
  personalData: (c) => async (userId) => ({
    passkeys: await c
      .get(DataSource)
      .query('SELECT id, name, aaguid, device_type, backed_up, transports, created_at, last_used_at FROM passkeys WHERE user_id = $1 ORDER BY created_at', [userId]),
  }),
  routes: (_c, config) => (config.demoPage ? demoRoutes() : []),
});
