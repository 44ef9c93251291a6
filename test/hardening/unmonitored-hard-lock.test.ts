import { isolated, login, wrongPassword } from '../abuse/abuse.helpers';
import { scrape, valueOf } from '../observability/metrics.helpers';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';

/**
 * Threat: a guessing run reaches the consecutive-failure cap (LOGIN_MAX_CONSECUTIVE_FAILURES) and
 * locks the account for good, but monitoring never sees it: bouncer_lockouts_total counted only the
 * throttle's locks, so an alert on lockouts stayed quiet while accounts were being hard-locked.
 * The cap now counts there too, under its own fixed policy label (`login:consecutive`).
 */
const CAP = 3;
let server: TestServer;
beforeAll(async () => {
  // The throttle's own lock and delays out of reach: only the consecutive-failure cap can lock.
  server = await startTestServer(
    isolated({ METRICS_PORT: '0', LOGIN_MAX_CONSECUTIVE_FAILURES: String(CAP), LOGIN_LOCK_AFTER_FAILURES: '100', LOGIN_DELAY_AFTER_FAILURES: '100' }),
  );
});
afterAll(() => server.stop());

const lockouts = async (policy: string): Promise<number> => valueOf((await scrape(server)).samples, 'bouncer_lockouts_total', { policy });

test('positive control: failures below the cap, then the right password, count no lockout', async () => {
  const account = await registerAccount(server);
  const before = await lockouts('login:consecutive');
  for (let i = 0; i < CAP - 1; i++) expect(codeOf(await login(server, account.email, wrongPassword()))).toBe('INVALID_CREDENTIALS');
  expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  expect(await lockouts('login:consecutive')).toBe(before);
});

test('reaching the consecutive-failure cap is counted once in bouncer_lockouts_total{policy="login:consecutive"}', async () => {
  const account = await registerAccount(server);
  const before = { cap: await lockouts('login:consecutive'), throttle: await lockouts('login:acct') };
  for (let i = 0; i < CAP; i++) expect(codeOf(await login(server, i % 2 ? account.username : account.email, wrongPassword()))).toBe('INVALID_CREDENTIALS');
  // Locked: even the right password is refused now.
  expect(codeOf(await login(server, account.email, account.password))).toBe('RATE_LIMITED');
  expect(await lockouts('login:consecutive')).toBe(before.cap + 1);
  // Guesses against the locked account are no new lockout, and the throttle locked nothing.
  expect(codeOf(await login(server, account.email, wrongPassword()))).toBe('RATE_LIMITED');
  expect(await lockouts('login:consecutive')).toBe(before.cap + 1);
  expect(await lockouts('login:acct')).toBe(before.throttle);
});
