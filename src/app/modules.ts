import { adminModule } from '../admin/admin.module';
import { emailModule } from '../email/email.module';
import { mailModule } from '../mail/mail.module';
import type { FeatureModule } from '../module';
import { passkeysModule } from '../passkeys/passkeys.module';
import { oauthModule } from '../oauth/oauth.module';
import { observabilityModule } from '../observability/observability.module';
import { passwordModule } from '../password/password.module';
import { sessionsModule } from '../sessions/sessions.module';
import { signInModule } from '../sign-in/sign-in.module';
import { twoFactorModule } from '../two-factor/two-factor.module';
import { usersModule } from '../users/users.module';

/**
 * The one list of feature modules, in dependency order (a module may use what those before it
 * registered). A new capability is a folder, a line here and its migration.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const modules: ReadonlyArray<FeatureModule<any>> = [
  mailModule,
  usersModule,
  sessionsModule,
  signInModule,
  passwordModule,
  twoFactorModule,
  emailModule,
  passkeysModule,
  oauthModule,
  observabilityModule,
  adminModule,
];
