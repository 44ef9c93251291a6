import { Clock } from '../app/clock';
import { AuditService } from '../audit/audit.service';
import { str, type Env } from '../config/parse';
import { Encryptor } from '../crypto/encryption';
import { Sql } from '../db/sql';
import { SecurityNoticesToken } from '../mail/security-notices';
import { defineModule } from '../module';
import { PasswordService } from '../password/password.service';
import { SecondFactorCheck } from '../sign-in/second-factor-check';
import { TwoFactorEnrolment } from './enrolment.service';
import { RecoveryCodeEntity } from './recovery-code.entity';
import { RecoveryCodeFactor } from './recovery-code.factor';
import { TotpFactor } from './totp.factor';
import { TwoFactorErrors } from './two-factor.errors';
import { TwoFactorEvent } from './two-factor.events';
import { TwoFactorResolver } from './two-factor.resolver';

export interface TwoFactorConfig {
  /** Shown by authenticator apps next to the account. */
  issuer: string;
}

/** Second factors: TOTP (RFC 6238) from an authenticator app, and single-use recovery codes. */
export const twoFactorModule = defineModule<TwoFactorConfig>({
  name: 'two-factor',
  readConfig: (env: Env) => ({ issuer: str(env, 'TWO_FACTOR_ISSUER') ?? 'Bouncer' }),
  entities: [RecoveryCodeEntity],
  errors: TwoFactorErrors.catalogue,
  auditEvents: Object.values(TwoFactorEvent),
  secretFields: ['code', 'codes', 'recoveryCodes', 'secret', 'otpauthUrl', 'qrCodeDataUrl'],
  resolvers: [TwoFactorResolver],
  // Built from kernel services only, before the sign-in pipeline that asks them.
  secondFactors: (c) => [c.set(TotpFactor, new TotpFactor(c.get(Encryptor), c.get(Clock))), c.set(RecoveryCodeFactor, new RecoveryCodeFactor(c.get(Encryptor)))],
  register(c, config) {
    const enrolment = new TwoFactorEnrolment(
      c.get(Sql),
      c.get(Encryptor),
      c.get(PasswordService),
      c.get(TotpFactor),
      c.get(RecoveryCodeFactor),
      c.get(SecondFactorCheck),
      c.get(AuditService),
      c.get(SecurityNoticesToken),
      config.issuer,
    );
    c.set(TwoFactorResolver, new TwoFactorResolver(c.set(TwoFactorEnrolment, enrolment)));
  },
});
