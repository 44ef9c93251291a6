import { isolated, login, wrongPassword } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { enrol, type Authenticator } from '../two-factor/two-factor.helpers';

/**
 * Threat: a stolen access token turned into an unlimited password oracle. changePassword,
 * enableTwoFactor and disableTwoFactor re-check the current password; each check is a guess, and
 * must count against the account's login lock exactly like a login does.
 */
const LOCK_AFTER = 5;
const CHANGE_PASSWORD = operation('ChangePassword');

let server: TestServer;
beforeAll(async () => {
  // Delays off, so the guesses run back to back and only the lock answers.
  server = await startTestServer(isolated({ LOGIN_LOCK_AFTER_FAILURES: String(LOCK_AFTER), LOGIN_DELAY_AFTER_FAILURES: '100' }));
});
afterAll(() => server.stop());

interface Recheck {
  /** Prepares the account (2FA on for disable); returns what the call needs besides the password. */
  prepare(account: TestAccount): Promise<Authenticator | null>;
  call(account: TestAccount, password: string, authenticator: Authenticator | null): Promise<GraphQLResponse<Record<string, any>>>;
}

const RECHECKS: Record<string, Recheck> = {
  changePassword: {
    prepare: async () => null,
    call: (account, password) => server.gql(CHANGE_PASSWORD, { currentPassword: password, newPassword: `${account.password}-next` }, account.accessToken),
  },
  enableTwoFactor: {
    prepare: async () => null,
    call: (account, password) => server.gql(operation('EnableTwoFactor'), { password }, account.accessToken),
  },
  disableTwoFactor: {
    prepare: async (account) => (await enrol(server, account)).authenticator,
    // The password is checked before the code: a wrong guess spends no real code.
    call: async (account, password, authenticator) =>
      server.gql(
        operation('DisableTwoFactor'),
        { password, code: password === account.password ? await authenticator!.next() : '000000' },
        account.accessToken,
      ),
  },
};

describe.each(Object.keys(RECHECKS))('%s', (name) => {
  const recheck = RECHECKS[name];

  test(`guessing the current password through ${name} with a stolen access token locks like a login`, async () => {
    const victim = await registerAccount(server);
    const authenticator = await recheck.prepare(victim);
    for (let i = 0; i < LOCK_AFTER; i++) expect(codeOf(await recheck.call(victim, wrongPassword(), authenticator))).toBe('INVALID_CREDENTIALS');
    // Locked: even the right password is refused, here and at login.
    expect(codeOf(await recheck.call(victim, victim.password, authenticator))).toBe('RATE_LIMITED');
    expect(codeOf(await login(server, victim.email, victim.password))).toBe('RATE_LIMITED');
  });

  test(`below the lock, the right password still works through ${name} (positive control)`, async () => {
    const owner = await registerAccount(server);
    const authenticator = await recheck.prepare(owner);
    for (let i = 0; i < LOCK_AFTER - 1; i++) expect(codeOf(await recheck.call(owner, wrongPassword(), authenticator))).toBe('INVALID_CREDENTIALS');
    const res = await recheck.call(owner, owner.password, authenticator);
    expect(res.errors).toBeUndefined();
    expect(res.data?.[name]).toBeTruthy();
  });
});
