import { MailCatcher } from '../mail/mail-catcher';
import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { codeOf, type TestServer } from '../support/test-server';
import { CONFIRM_EMAIL_CHANGE, EMAIL_STATE, REQUEST_EMAIL_CHANGE, requestReset, RESET_PASSWORD, startMailingServer, strongPassword, SUBJECT, tokenOf } from './email.helpers';

let catcher: MailCatcher;
let server: TestServer;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  server = await startMailingServer(catcher, { EMAIL_CHANGES_PER_HOUR: '2' });
});
afterAll(async () => {
  await server.stop();
  await catcher.stop();
});

const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => server.running.services.dataSource.query(text, values);
const login = (identifier: string, password: string) => server.gql(LOGIN, { input: { identifier, password } });

test('requestEmailChange mails a link to the new address and a notice to the current one; pendingEmail shows it; the link changes and verifies the address', async () => {
  const account = await registerAccount(server);
  const newEmail = uniqueEmail('moved');
  const res = await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: `  ${newEmail.toUpperCase()} `, password: account.password }, account.accessToken);
  expect(res.errors).toBeUndefined();
  expect(res.data?.requestEmailChange).toBe(true);

  const link = await catcher.latest(newEmail, SUBJECT.change);
  expect(link.text).toMatch(new RegExp(`^${server.origin.replace(/[.]/g, '\\.')}/confirm-email-change#token=[A-Za-z0-9_-]{43,}$`, 'm'));
  expect(link.text).toContain('1 hour');
  const notice = await catcher.latest(account.email, SUBJECT.changeRequested);
  expect(notice.text).toContain(newEmail);
  expect(notice.text).not.toContain('#token=');
  expect(notice.html).not.toContain(tokenOf(link));
  expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me).toMatchObject({ email: account.email, pendingEmail: newEmail });

  const confirmed = await server.gql(CONFIRM_EMAIL_CHANGE, { token: tokenOf(link) });
  expect(confirmed.data?.confirmEmailChange).toBe(true);
  expect(codeOf(await server.gql(CONFIRM_EMAIL_CHANGE, { token: tokenOf(link) }))).toBe('INVALID_TOKEN'); // replayed
  expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me).toMatchObject({ email: newEmail, emailVerified: true, pendingEmail: null });
  expect(codeOf(await login(account.email, account.password))).toBe('INVALID_CREDENTIALS');
  expect((await login(newEmail, account.password)).data?.login.__typename).toBe('AuthPayload');
  const types = await db<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 AND type LIKE 'user.email_change%' ORDER BY id`, [account.id]);
  expect(types.map((t) => t.type)).toEqual(['user.email_change_requested', 'user.email_changed']);
  const [lifetime] = await db<{ s: number }>(`SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM email_tokens WHERE user_id = $1 AND kind = 'confirm_email_change'`, [account.id]);
  expect(lifetime.s).toBe(60 * 60);
});

test('the password is re-checked: a wrong one is INVALID_CREDENTIALS and nothing is mailed', async () => {
  const account = await registerAccount(server);
  const newEmail = uniqueEmail('moved');
  const res = await server.gql(REQUEST_EMAIL_CHANGE, { newEmail, password: `${account.password}x` }, account.accessToken);
  expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  expect(await db('SELECT id FROM mail_outbox WHERE recipient = $1', [newEmail])).toEqual([]);
});

test('EMAIL_TAKEN when the new address belongs to another account; BAD_USER_INPUT for a malformed or unchanged one', async () => {
  const account = await registerAccount(server);
  const other = await registerAccount(server);
  const taken = await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: other.email, password: account.password }, account.accessToken);
  expect(codeOf(taken)).toBe('EMAIL_TAKEN');
  for (const newEmail of ['nope', account.email]) {
    const bad = await server.gql(REQUEST_EMAIL_CHANGE, { newEmail, password: account.password }, account.accessToken);
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0].extensions!.fields).toEqual([{ field: 'newEmail', message: expect.any(String) }]);
  }
  expect(codeOf(await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: uniqueEmail(), password: account.password }))).toBe('UNAUTHENTICATED');
});

test('an address taken by another account after the request: confirmEmailChange is EMAIL_TAKEN and the token stays unspent', async () => {
  const account = await registerAccount(server);
  const newEmail = uniqueEmail('contested');
  await server.gql(REQUEST_EMAIL_CHANGE, { newEmail, password: account.password }, account.accessToken);
  const token = tokenOf(await catcher.latest(newEmail, SUBJECT.change));
  const squatter = await registerAccount(server, { email: newEmail });
  expect(codeOf(await server.gql(CONFIRM_EMAIL_CHANGE, { token }))).toBe('EMAIL_TAKEN');
  expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.email).toBe(account.email);
  // The squatter leaves (its address changes): the same link now works.
  await db('UPDATE users SET email = $2 WHERE id = $1', [squatter.id, uniqueEmail('gone')]);
  expect((await server.gql(CONFIRM_EMAIL_CHANGE, { token })).data?.confirmEmailChange).toBe(true);
});

test('retired and expired email-change tokens are INVALID_TOKEN', async () => {
  const account = await registerAccount(server);
  const first = uniqueEmail('first');
  const second = uniqueEmail('second');
  await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: first, password: account.password }, account.accessToken);
  const firstToken = tokenOf(await catcher.latest(first, SUBJECT.change));
  await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: second, password: account.password }, account.accessToken);
  const secondToken = tokenOf(await catcher.latest(second, SUBJECT.change));
  expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.pendingEmail).toBe(second);
  expect(codeOf(await server.gql(CONFIRM_EMAIL_CHANGE, { token: firstToken }))).toBe('INVALID_TOKEN'); // retired by the newer request
  await db(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND kind = 'confirm_email_change' AND used_at IS NULL`, [account.id]);
  expect(codeOf(await server.gql(CONFIRM_EMAIL_CHANGE, { token: secondToken }))).toBe('INVALID_TOKEN'); // expired
  expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me).toMatchObject({ email: account.email, pendingEmail: null });
});

test('links sent to the old address stop working once the address changes', async () => {
  const account = await registerAccount(server);
  const resetToken = tokenOf(await requestReset(server, catcher, account.email));
  const newEmail = uniqueEmail('moved');
  await server.gql(REQUEST_EMAIL_CHANGE, { newEmail, password: account.password }, account.accessToken);
  await server.gql(CONFIRM_EMAIL_CHANGE, { token: tokenOf(await catcher.latest(newEmail, SUBJECT.change)) });
  expect(codeOf(await server.gql(RESET_PASSWORD, { token: resetToken, newPassword: strongPassword() }))).toBe('INVALID_TOKEN');
});

test('a password reset kills a pending email change (account recovery after a takeover)', async () => {
  const account = await registerAccount(server);
  const attacker = uniqueEmail('attacker');
  await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: attacker, password: account.password }, account.accessToken);
  const changeToken = tokenOf(await catcher.latest(attacker, SUBJECT.change));
  const resetToken = tokenOf(await requestReset(server, catcher, account.email));
  expect((await server.gql(RESET_PASSWORD, { token: resetToken, newPassword: strongPassword() })).data?.resetPassword).toBe(true);
  expect(codeOf(await server.gql(CONFIRM_EMAIL_CHANGE, { token: changeToken }))).toBe('INVALID_TOKEN');
});

test('inbox flooding through email changes: RATE_LIMITED per account past the budget (2 here)', async () => {
  const account = await registerAccount(server);
  for (let i = 0; i < 2; i++) {
    expect((await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: uniqueEmail(), password: account.password }, account.accessToken)).data?.requestEmailChange).toBe(true);
  }
  const refused = await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: uniqueEmail(), password: account.password }, account.accessToken);
  expect(codeOf(refused)).toBe('RATE_LIMITED');
  expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
});

test('one address flooded with change links from several accounts: RATE_LIMITED per new address', async () => {
  const target = uniqueEmail('victim');
  const results = [];
  for (let i = 0; i < 3; i++) {
    const account = await registerAccount(server);
    results.push(await server.gql(REQUEST_EMAIL_CHANGE, { newEmail: target, password: account.password }, account.accessToken));
  }
  expect(results.map((r) => r.data?.requestEmailChange ?? codeOf(r))).toEqual([true, true, 'RATE_LIMITED']);
});
