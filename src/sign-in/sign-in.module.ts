import { DataSource } from 'typeorm';
import { Throttle } from '../abuse/throttle';
import { AuditService } from '../audit/audit.service';
import { Sql } from '../db/sql';
import { defineModule } from '../module';
import { SessionTokens } from '../sessions/session-tokens';
import { SessionsService } from '../sessions/sessions.service';
import { TwoFactorChallengeEntity } from './challenge.entity';
import { Challenges } from './challenges';
import { ChallengesFillfactor1764700031300 } from './migrations/1764700031300-challenges-fillfactor';
import { SecondFactors } from './second-factor';
import { SecondFactorCheck } from './second-factor-check';
import { readSignInConfig, secondFactorPolicies, type SignInConfig } from './sign-in.config';
import { SignInErrors } from './sign-in.errors';
import { SignInEvent } from './sign-in.events';
import { SignInResolver } from './sign-in.resolver';
import { SignInService } from './sign-in.service';

/** Expired challenges are useless at once; a day keeps them for debugging a failed login. */
const CHALLENGE_RETENTION_SECONDS = 24 * 60 * 60;

/** The sign-in pipeline every method ends in, and the second-factor step (challenges). */
export const signInModule = defineModule<SignInConfig>({
  name: 'sign-in',
  readConfig: readSignInConfig,
  entities: [TwoFactorChallengeEntity],
  migrations: [ChallengesFillfactor1764700031300],
  errors: SignInErrors.catalogue,
  auditEvents: Object.values(SignInEvent),
  throttlePolicies: secondFactorPolicies,
  secretFields: ['challengeToken'],
  resolvers: [SignInResolver],
  cleanupJobs: () => [
    {
      name: 'challenges',
      sql: `DELETE FROM two_factor_challenges WHERE id IN (
              SELECT id FROM two_factor_challenges WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params: [CHALLENGE_RETENTION_SECONDS],
    },
  ],
  register(c) {
    const dataSource = c.get(DataSource);
    const challenges = c.set(Challenges, new Challenges(dataSource, c.get(Sql), c.get(AuditService)));
    const signIn = c.set(
      SignInService,
      new SignInService(dataSource, c.get(SessionsService), c.get(SessionTokens), c.get(AuditService), challenges, c.get(SecondFactors), c.get(Throttle), c.get(Sql)),
    );
    c.set(SecondFactorCheck, new SecondFactorCheck(dataSource, c.get(SecondFactors), c.get(Throttle), c.get(AuditService), signIn));
    c.set(SignInResolver, new SignInResolver(signIn, c.get(SecondFactors)));
  },
});
