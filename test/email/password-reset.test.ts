import { randomBytes } from 'node:crypto';
import { BackgroundTasks } from '../../src/email/background-tasks';
import { MailCatcher } from '../mail/mail-catcher';
import { LOGIN, registerAccount, uniqueEmail, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, type TestServer } from '../support/test-server';
import { challenge, enrol, verify } from '../two-factor/two-factor.helpers';
import { EMAIL_STATE, REQUEST_RESET, requestReset, RESET_PASSWORD, startMailingServer, strongPassword, SUBJECT, tokenOf } from './email.helpers';

const REFRESH = operation('RefreshToken');

let catcher: MailCatcher;
let server: TestServer;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  server = await startMailingServer(catcher, {
    PASSWORD_RESETS_PER_ADDRESS_PER_HOUR: '3',
    // Locks after 3 wrong passwords, without the growing delays in between.
    LOGIN_LOCK_AFTER_FAILURES: '3',
    LOGIN_DELAY_AFTER_FAILURES: '100',
  });
});
afterAll(async () => {
  await server.stop();
  await catcher.stop();
});

const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => server.running.services.dataSource.query(text, values);
const login = (identifier: string, password: string) => server.gql(LOGIN, { input: { identifier, password } });
const reset = (token: string, newPassword: string) => server.gql(RESET_PASSWORD, { token, newPassword });

async function resetLink(account: TestAccount): Promise<string> {
  return tokenOf(await requestReset(server, catcher, account.email));
}

describe('requestPasswordReset', () => {
  test('mails a reset link to a known address, with both parts and a 30-minute token', async () => {
    const account = await registerAccount(server);
    const mail = await requestReset(server, catcher, account.email.toUpperCase());
    expect(mail.subject).toBe('Reset your password');
    expect(mail.text).toMatch(new RegExp(`^${server.origin.replace(/[.]/g, '\\.')}/reset-password#token=[A-Za-z0-9_-]{43,}$`, 'm'));
    expect(mail.html).toContain(`/reset-password#token=${tokenOf(mail)}"`);
    expect(mail.text).toContain('30 minutes');
    const [row] = await db<{ lifetime: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS lifetime FROM email_tokens WHERE user_id = $1 AND kind = 'reset_password'`,
      [account.id],
    );
    expect(row.lifetime).toBe(30 * 60);
  });

  test('enumeration of accounts through reset: known and unknown addresses get byte-identical answers; only the known one gets mail', async () => {
    const account = await registerAccount(server);
    const unknown = uniqueEmail('nobody');
    const send = (email: string) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: REQUEST_RESET, variables: { email } }) });
    const [known, missing] = await Promise.all([send(account.email), send(unknown)]);
    const headersOf = (res: Response) => [...res.headers.entries()].filter(([name]) => name !== 'date');
    expect(missing.status).toBe(known.status);
    expect(headersOf(missing)).toEqual(headersOf(known));
    expect(await missing.text()).toBe(await known.text());

    await catcher.latest(account.email, SUBJECT.reset);
    const audit = await db<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 AND type = 'user.password_reset_requested'`, [account.id]);
    expect(audit).toHaveLength(1);
    // The unknown address: no token, no mail row, no audit event naming it (once the background work ran).
    await server.running.container.get(BackgroundTasks).drain();
    expect(await db(`SELECT id FROM mail_outbox WHERE recipient = $1`, [unknown])).toEqual([]);
    expect(await db(`SELECT id FROM audit_events WHERE data::text LIKE $1`, [`%${unknown}%`])).toEqual([]);
    expect(catcher.to(unknown)).toEqual([]);
  });

  test('a malformed address gets the same true and no work', async () => {
    expect((await server.gql(REQUEST_RESET, { email: 'not an address' })).data?.requestPasswordReset).toBe(true);
  });

  test('inbox flooding through reset requests: RATE_LIMITED per address past the budget, for known and unknown addresses alike', async () => {
    const account = await registerAccount(server);
    const unknown = uniqueEmail('nobody');
    for (const email of [account.email, unknown]) {
      for (let i = 0; i < 3; i++) expect((await server.gql(REQUEST_RESET, { email })).data?.requestPasswordReset).toBe(true);
      const refused = await server.gql(REQUEST_RESET, { email: email.toUpperCase() }); // normalised: the same address
      expect(codeOf(refused)).toBe('RATE_LIMITED');
      expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    }
    // Positive control: another address still gets its answer.
    expect((await server.gql(REQUEST_RESET, { email: uniqueEmail() })).data?.requestPasswordReset).toBe(true);
  });

  test('a newer reset link retires the older one', async () => {
    const account = await registerAccount(server);
    const first = await resetLink(account);
    const second = await resetLink(account);
    expect(codeOf(await reset(first, strongPassword()))).toBe('INVALID_TOKEN');
    expect((await reset(second, strongPassword())).data?.resetPassword).toBe(true);
  });
});

describe('resetPassword', () => {
  test('sets the new password, verifies the address, and sends a password-changed notice without a token', async () => {
    const account = await registerAccount(server);
    const token = await resetLink(account);
    const newPassword = strongPassword();
    const res = await reset(token, newPassword);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ resetPassword: true });

    expect(codeOf(await login(account.email, account.password))).toBe('INVALID_CREDENTIALS');
    const fresh = await login(account.email, newPassword);
    expect(fresh.data?.login.__typename).toBe('AuthPayload');
    expect((await server.gql(EMAIL_STATE, {}, fresh.data!.login.accessToken)).data?.me.emailVerified).toBe(true);

    const notice = await catcher.latest(account.email, SUBJECT.passwordChanged);
    expect(notice.text).not.toContain('#token=');
    expect(notice.html).not.toContain('#token=');
    expect(notice.text).not.toContain(token);
    const types = await db<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 AND type LIKE 'user.password_reset%' ORDER BY id`, [account.id]);
    expect(types.map((t) => t.type)).toEqual(['user.password_reset_requested', 'user.password_reset']);
  });

  test('replayed reset token: refused the second time', async () => {
    const account = await registerAccount(server);
    const token = await resetLink(account);
    expect((await reset(token, strongPassword())).data?.resetPassword).toBe(true);
    const replay = await reset(token, strongPassword());
    expect(codeOf(replay)).toBe('INVALID_TOKEN');
  });

  test('one reset token raced by six requests: exactly one password is set', async () => {
    const account = await registerAccount(server);
    const token = await resetLink(account);
    const passwords = Array.from({ length: 6 }, () => strongPassword());
    const results = await Promise.all(passwords.map((p) => reset(token, p)));
    const winners = passwords.filter((_, i) => results[i].data?.resetPassword === true);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'INVALID_TOKEN')).toHaveLength(5);
    expect((await login(account.email, winners[0])).data?.login.__typename).toBe('AuthPayload');
  });

  test('a refused new password is BAD_USER_INPUT on newPassword and does not spend the token', async () => {
    const account = await registerAccount(server);
    const token = await resetLink(account);
    for (const weak of ['short', 'password123', `x${account.email.split('@')[0]}x!`]) {
      const res = await reset(token, weak);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions!.fields).toEqual([{ field: 'newPassword', message: expect.any(String) }]);
    }
    expect((await reset(token, strongPassword())).data?.resetPassword).toBe(true);
  });

  test('an expired reset token (past 30 minutes) is INVALID_TOKEN', async () => {
    const account = await registerAccount(server);
    const token = await resetLink(account);
    await db(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND kind = 'reset_password'`, [account.id]);
    expect(codeOf(await reset(token, strongPassword()))).toBe('INVALID_TOKEN');
    expect((await login(account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('every session ends: access tokens are refused at once and refresh tokens are dead', async () => {
    const account = await registerAccount(server);
    const other = await login(account.email, account.password);
    const token = await resetLink(account);
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.id).toBe(account.id); // positive control
    expect((await reset(token, strongPassword())).data?.resetPassword).toBe(true);
    for (const session of [account, other.data!.login]) {
      expect(codeOf(await server.gql(EMAIL_STATE, {}, session.accessToken))).toBe('UNAUTHENTICATED');
      expect(codeOf(await server.gql(REFRESH, { refreshToken: session.refreshToken }))).toBe('INVALID_TOKEN');
    }
    const live = await db(`SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [account.id]);
    expect(live).toEqual([]); // and the reset itself opened none: it does not sign in
  });

  test('clears the lockout of the account: its failed-login lock and its consecutive-failure count', async () => {
    const account = await registerAccount(server);
    for (let i = 0; i < 3; i++) await login(account.email, `Wrong-${randomBytes(4).toString('hex')}`);
    expect(codeOf(await login(account.email, account.password))).toBe('RATE_LIMITED'); // locked, right password or not
    await db('UPDATE users SET failed_logins = 100 WHERE id = $1', [account.id]); // at NIST's cap: only a reset or an admin helps
    const newPassword = strongPassword();
    expect((await reset(await resetLink(account), newPassword)).data?.resetPassword).toBe(true);
    expect((await login(account.email, newPassword)).data?.login.__typename).toBe('AuthPayload');
    expect((await db<{ failed_logins: number }>('SELECT failed_logins FROM users WHERE id = $1', [account.id]))[0].failed_logins).toBe(0);
  });

  test('four aliased resetPassword fields in one document are refused before any hashing', async () => {
    const fields = Array.from({ length: 4 }, (_, i) => `r${i}: resetPassword(token: "t${i}", newPassword: "Some-new-password-1")`).join('\n');
    const res = await server.gql(`mutation { ${fields} }`);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('reset used to bypass 2FA', () => {
  test('after a reset the login still asks for the second factor, and a challenge from before the reset is void', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const pending = await challenge(server, account);
    const newPassword = strongPassword();
    const res = await reset(await resetLink(account), newPassword);
    expect(res.data).toEqual({ resetPassword: true }); // a boolean: no token, no session

    const after = await login(account.email, newPassword);
    expect(after.data?.login.__typename).toBe('TwoFactorChallenge');
    expect(after.data?.login.accessToken).toBeUndefined();
    // The half sign-in started with the old password cannot be finished any more.
    expect(codeOf(await verify(server, pending, await authenticator.next()))).toBe('INVALID_TOKEN');
    // Positive control: the new challenge passes with a code.
    expect((await verify(server, after.data!.login.challengeToken, await authenticator.next())).data?.verifyTwoFactor.accessToken).toBeTruthy();
  });
});

test('one client spraying reset requests over many addresses: RATE_LIMITED per client past its budget', async () => {
  const strict = await startMailingServer(catcher, { PASSWORD_RESETS_PER_CLIENT_PER_HOUR: '2' });
  try {
    for (let i = 0; i < 2; i++) expect((await strict.gql(REQUEST_RESET, { email: uniqueEmail() })).data?.requestPasswordReset).toBe(true);
    const refused = await strict.gql(REQUEST_RESET, { email: uniqueEmail() });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
  } finally {
    await strict.stop();
  }
});
