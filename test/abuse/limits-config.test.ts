import { featureConfig, loadConfig } from '../../src/app/config';
import { passwordModule } from '../../src/password/password.module';
import { signInModule } from '../../src/sign-in/sign-in.module';
import { productionEnv as production, refusedVariable } from '../support/config-env';

test('abuse limits default to the contract values in every environment', () => {
  for (const env of [{}, { NODE_ENV: 'test' }, production()]) {
    const config = loadConfig(env);
    expect(featureConfig(config, passwordModule)).toMatchObject({ loginDelayAfterFailures: 5, loginLockAfterFailures: 20, loginLockSeconds: 15 * 60, maxConsecutiveFailures: 100 });
    expect(featureConfig(config, signInModule)).toMatchObject({ twoFactorLockAfterFailures: 10, twoFactorLockSeconds: 15 * 60 });
    expect(config.limits).toMatchObject({
      ipFailuresPerWindow: 100,
      ipWindowSeconds: 15 * 60,
      maxDepth: 15,
      maxAliases: 15,
      maxTokens: 2000,
      maxBodyBytes: 100 * 1024,
    });
  }
});

test('production caps registrations at 20 per address per hour; development and tests (all 127.0.0.1) do not', () => {
  expect(featureConfig(loadConfig(production()), passwordModule)).toMatchObject({ registrationsPerWindow: 20, registrationWindowSeconds: 3600 });
  expect(featureConfig(loadConfig({}), passwordModule).registrationsPerWindow).toBeGreaterThan(1000);
});

test('refuses a per-account lock threshold above NIST SP 800-63B\'s 100 consecutive failures', () => {
  expect(refusedVariable({ LOGIN_LOCK_AFTER_FAILURES: '101' })).toBe('LOGIN_LOCK_AFTER_FAILURES');
  expect(refusedVariable({ TWO_FACTOR_LOCK_AFTER_FAILURES: '101' })).toBe('TWO_FACTOR_LOCK_AFTER_FAILURES');
  expect(featureConfig(loadConfig({ LOGIN_LOCK_AFTER_FAILURES: '100' }), passwordModule).loginLockAfterFailures).toBe(100);
});

test('RATE_LIMIT_KEY_PREFIX must be a short plain name (it becomes part of every counter key)', () => {
  expect(loadConfig({}).rateLimitKeyPrefix).toBe('bouncer');
  expect(loadConfig({ RATE_LIMIT_KEY_PREFIX: 'eu-1.bouncer' }).rateLimitKeyPrefix).toBe('eu-1.bouncer');
  expect(refusedVariable({ RATE_LIMIT_KEY_PREFIX: 'has space' })).toBe('RATE_LIMIT_KEY_PREFIX');
  expect(refusedVariable({ RATE_LIMIT_KEY_PREFIX: 'x'.repeat(65) })).toBe('RATE_LIMIT_KEY_PREFIX');
});

test('TRUST_PROXY defaults to 0: the socket address is the client', () => {
  expect(loadConfig({}).trustProxy).toBe(0);
});
