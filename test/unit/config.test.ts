import { featureConfig, loadConfig } from '../../src/app/config';
import { passwordModule } from '../../src/password/password.module';
import { signInModule } from '../../src/sign-in/sign-in.module';
import { productionEnv, refusedVariable } from '../support/config-env';

const production = (): Record<string, string> => ({ ...productionEnv(), DATABASE_URL: 'postgres://u:p@db:5432/x' });
const variableOf = refusedVariable;

test('defaults match CONTRACT.md', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({ port: 4000, refreshReuseGraceSeconds: 10, nodeEnv: 'development', databaseUrl: undefined });
  expect(featureConfig(config, passwordModule)).toMatchObject({ bcryptRounds: 12, loginDelayAfterFailures: 5, loginLockAfterFailures: 20, loginLockSeconds: 900 });
  expect(featureConfig(config, signInModule)).toMatchObject({ twoFactorLockAfterFailures: 10 });
  expect(config.sessionIdleSeconds).toBe(30 * 86400);
  expect(config.sessionAbsoluteSeconds).toBe(90 * 86400);
  expect(config.sessionMaxPerUser).toBe(100);
  expect(config.limits).toMatchObject({ ipFailuresPerWindow: 100, maxDepth: 15, maxAliases: 15, maxTokens: 2000, maxBodyBytes: 102400 });
});

test('a production start without JWT_PRIVATE_KEY is refused, naming the variable', () => {
  const { JWT_PRIVATE_KEY: _, ...env } = production();
  expect(variableOf(env)).toBe('JWT_PRIVATE_KEY');
});

test('a production start without ENCRYPTION_KEY is refused, naming the variable', () => {
  const { ENCRYPTION_KEY: _, ...env } = production();
  expect(variableOf(env)).toBe('ENCRYPTION_KEY');
});

test('BCRYPT_ROUNDS below 10 is refused in production but allowed in tests', () => {
  expect(variableOf({ ...production(), BCRYPT_ROUNDS: '9' })).toBe('BCRYPT_ROUNDS');
  expect(featureConfig(loadConfig({ NODE_ENV: 'test', BCRYPT_ROUNDS: '4' }), passwordModule).bcryptRounds).toBe(4);
});

test('a complete production configuration loads, with introspection and the landing page off', () => {
  const config = loadConfig(production());
  expect(config).toMatchObject({ isProduction: true, introspection: false, landingPage: false, corsOrigins: [] });
});

test.each([
  ['PORT', 'eighty'],
  ['PORT', '70000'],
  ['BCRYPT_ROUNDS', '3'],
  ['DATABASE_URL', 'mysql://x@y/z'],
  ['DATABASE_URL', 'not a url'],
  ['REDIS_URL', 'http://localhost'],
  ['ENCRYPTION_KEY', 'c2hvcnQ='],
  ['NODE_ENV', 'staging'],
  ['LOG_LEVEL', 'loud'],
  ['REFRESH_REUSE_GRACE_SECONDS', '-1'],
  ['CORS_ORIGINS', 'not an origin'],
  ['GRAPHQL_INTROSPECTION', 'maybe'],
  ['SESSION_MAX_PER_USER', '0'],
  ['SESSION_MAX_PER_USER', '101'],
])('%s=%p is refused with an error naming it', (name, value) => {
  expect(variableOf({ [name]: value })).toBe(name);
});
