import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { AuditService } from '../audit/audit.service';
import { Sql } from '../db/sql';
import { SecurityNoticesToken } from '../mail/security-notices';
import { defineModule } from '../module';
import { RevocationWatcher } from '../sessions/revocation-watcher';
import { SessionsService } from '../sessions/sessions.service';
import { SignInService } from '../sign-in/sign-in.service';
import { AccountCreatedHooks } from '../users/account-created';
import { PasswordCheck } from './password-check';
import { passwordPolicies, readPasswordConfig, type PasswordConfig } from './password.config';
import { PasswordErrors } from './password.errors';
import { PasswordEvent } from './password.events';
import { PasswordHasher } from './password-hasher';
import { commonPasswordCount } from './password-policy';
import { PasswordResolver } from './password.resolver';
import { PasswordService } from './password.service';

/** Sign-in method: email or username and a password (registration, login, re-check, change). */
export const passwordModule = defineModule<PasswordConfig>({
  name: 'password',
  readConfig: readPasswordConfig,
  errors: PasswordErrors.catalogue,
  auditEvents: Object.values(PasswordEvent),
  throttlePolicies: passwordPolicies,
  secretFields: ['password', 'currentPassword', 'newPassword'],
  resolvers: [PasswordResolver],
  register(c, config) {
    const hasher = c.set(PasswordHasher, new PasswordHasher({ rounds: config.bcryptRounds, concurrency: config.bcryptConcurrency, queueLimit: config.bcryptQueueLimit }));
    const check = c.set(PasswordCheck, new PasswordCheck(c.get(DataSource), hasher, c.get(Throttle), config));
    const passwords = c.set(
      PasswordService,
      new PasswordService(c.get(DataSource), c.get(Sql), hasher, check, c.get(SignInService), c.get(SessionsService), c.get(RevocationWatcher), c.get(AuditService), c.get(Throttle), {
        accountCreated: c.get(AccountCreatedHooks),
        notices: c.get(SecurityNoticesToken),
      }),
    );
    c.set(PasswordResolver, new PasswordResolver(passwords));
  },
  async start(c) {
    commonPasswordCount(); // loads the list now: a missing file stops the start, not the first registration
    await c.get(PasswordHasher).warmUp();
  },
});
