import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes } from '../support/audit';
import { sleep } from '../support/time';
import { isolated, login, wrongPassword } from '../abuse/abuse.helpers';

/**
 * Attack: guess without end by waiting out each short lock and switching between the account's
 * email and username (each a budget of its own): 188 wrong passwords in a row were checked, then the
 * right one worked. NIST SP 800-63B caps consecutive failures per account (100 by default here,
 * LOGIN_MAX_CONSECUTIVE_FAILURES); past the cap no guess is even checked until a reset or an
 * administrator clears it.
 */
const CAP = 6;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    isolated({ LOGIN_MAX_CONSECUTIVE_FAILURES: String(CAP), LOGIN_LOCK_AFTER_FAILURES: '2', LOGIN_LOCK_SECONDS: '1', LOGIN_DELAY_AFTER_FAILURES: '100' }),
  );
});
afterAll(() => server.stop());

/** Wrong passwords alternating email and username, each waiting out the 1-second lock. */
async function guess(account: { email: string; username: string }, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const identifier = i % 2 === 0 ? account.email : account.username;
    let res = await login(server, identifier, wrongPassword());
    while (codeOf(res) === 'RATE_LIMITED') {
      await sleep(1100);
      res = await login(server, identifier, wrongPassword());
    }
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  }
}

test('wrong passwords across identifiers and short locks stop counting at the cap: then even the right one is refused', async () => {
  const account = await registerAccount(server);
  await guess(account, CAP);
  await sleep(1100); // every short lock is over
  const res = await login(server, account.username, account.password);
  expect(codeOf(res)).toBe('RATE_LIMITED');
  expect(res.data?.login).toBeUndefined();
  expect((await auditTypes(server, account.id)).filter((t) => t === 'login.account_locked').length).toBeGreaterThanOrEqual(1);

  // An administrator (or a password reset) clears the count: the owner gets in again.
  await server.running.services.dataSource.query('UPDATE users SET failed_logins = 0 WHERE id = $1', [account.id]);
  expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
});

test('positive control: a success below the cap clears the run', async () => {
  const account = await registerAccount(server);
  await guess(account, CAP - 1);
  await sleep(1100);
  expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  await guess(account, CAP - 1);
  await sleep(1100);
  expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
});
