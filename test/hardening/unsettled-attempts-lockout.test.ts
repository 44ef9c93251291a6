import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated, login, wrongPassword } from '../abuse/abuse.helpers';

/**
 * Attack: lock a victim out by sending attempts that never get a verdict. Attempts shed by a full
 * bcrypt queue (SERVICE_UNAVAILABLE) used to stay counted as failures, so a flood plus a few aimed
 * guesses locked the account. Now an attempt without a verdict gives its points back.
 */
const LOCK_AFTER = 20; // the default
let server: TestServer;
beforeAll(async () => {
  // One slow bcrypt at a time and no waiting room: nearly every parallel attempt is shed unchecked.
  server = await startTestServer(
    isolated({ BCRYPT_ROUNDS: '10', BCRYPT_CONCURRENCY: '1', BCRYPT_QUEUE_LIMIT: '0', LOGIN_LOCK_AFTER_FAILURES: String(LOCK_AFTER), LOGIN_DELAY_AFTER_FAILURES: '100' }),
  );
});
afterAll(() => server.stop());

test('a flood of shed login attempts does not lock the account', async () => {
  const account = await registerAccount(server);
  const results = await Promise.all(Array.from({ length: 40 }, () => login(server, account.email, wrongPassword())));
  const shed = results.filter((r) => codeOf(r) === 'SERVICE_UNAVAILABLE').length;
  const checked = results.filter((r) => codeOf(r) === 'INVALID_CREDENTIALS').length;
  // Enough unchecked attempts to have locked the account had they stayed counted (with the checked ones).
  expect(shed + checked).toBeGreaterThanOrEqual(LOCK_AFTER);
  expect(shed).toBeGreaterThan(LOCK_AFTER / 2);
  expect(checked).toBeLessThan(LOCK_AFTER);
  expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
});

test('positive control: attempts that were checked and failed still lock the account', async () => {
  const account = await registerAccount(server);
  for (let i = 0; i < LOCK_AFTER; i++) expect(codeOf(await login(server, account.email, wrongPassword()))).toBe('INVALID_CREDENTIALS');
  expect(codeOf(await login(server, account.email, account.password))).toBe('RATE_LIMITED');
});
