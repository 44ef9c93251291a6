import { SecurityNoticesToken } from '../../src/mail/security-notices';
import { registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, type TestServer } from '../support/test-server';
import { enrol, operation as twoFactorOperation } from '../two-factor/two-factor.helpers';
import { startMailingServer, strongPassword, SUBJECT } from '../email/email.helpers';
import { MailCatcher, type CaughtMail } from './mail-catcher';

const CHANGE_PASSWORD = operation('ChangePassword');

let catcher: MailCatcher;
let server: TestServer;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  server = await startMailingServer(catcher);
});
afterAll(async () => {
  await server.stop();
  await catcher.stop();
});

const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => server.running.services.dataSource.query(text, values);

/** A notice must give an attacker who reads it nothing to use: no link with a token, no long random string. */
function expectNoToken(mail: CaughtMail): void {
  for (const part of [mail.text, mail.html, mail.subject]) {
    expect(part).not.toContain('#token=');
    expect(part).not.toMatch(/[A-Za-z0-9_-]{40,}/);
  }
}

test('changePassword sends a password-changed notice to the account, holding no token; a refused change sends none', async () => {
  const account = await registerAccount(server);
  const refused = await server.gql(CHANGE_PASSWORD, { currentPassword: `${account.password}x`, newPassword: strongPassword() }, account.accessToken);
  expect(codeOf(refused)).toBe('INVALID_CREDENTIALS');
  expect(await db(`SELECT id FROM mail_outbox WHERE recipient = $1 AND kind = 'password_changed'`, [account.email])).toEqual([]);

  const res = await server.gql(CHANGE_PASSWORD, { currentPassword: account.password, newPassword: strongPassword() }, account.accessToken);
  expect(res.data?.changePassword).toBe(true);
  const notice = await catcher.latest(account.email, SUBJECT.passwordChanged);
  expect(notice.text).toContain(account.email);
  expect(notice.text).toMatch(/ GMT/); // when it happened
  expectNoToken(notice);
  const rows = await db<{ token_enc: string | null; user_id: string }>(`SELECT token_enc, user_id FROM mail_outbox WHERE recipient = $1 AND kind = 'password_changed'`, [account.email]);
  expect(rows).toEqual([{ token_enc: null, user_id: account.id }]);
});

test('disableTwoFactor sends a two-factor-off notice holding no token', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  const res = await server.gql(twoFactorOperation('DisableTwoFactor'), { password: account.password, code: await authenticator.next() }, account.accessToken);
  expect(res.data?.disableTwoFactor).toBe(true);
  const notice = await catcher.latest(account.email, SUBJECT.twoFactorOff);
  expect(notice.text).toContain(account.email);
  expectNoToken(notice);
});

test('positive control: the check above does find a token in a link mail', async () => {
  const account = await registerAccount(server);
  const link = await catcher.latest(account.email, SUBJECT.verify);
  expect(() => expectNoToken(link)).toThrow();
});

test('a module queues a notice in its own transaction (the passkeys module: passkey_added with its name, escaped in HTML)', async () => {
  const account = await registerAccount(server);
  const notices = server.running.container.get(SecurityNoticesToken);
  await server.running.services.dataSource
    .transaction(async (m) => {
      await notices.notify(m, account.id, 'passkey_added', { name: 'rolled back' });
      throw new Error('the change fails');
    })
    .catch(() => undefined);
  await server.running.services.dataSource.transaction((m) => notices.notify(m, account.id, 'passkey_added', { name: 'Ada\'s <YubiKey>' }));
  const notice = await catcher.latest(account.email, /^A passkey was added/);
  expect(notice.text).toContain('"Ada\'s <YubiKey>"');
  expect(notice.html).toContain('Ada&#39;s &lt;YubiKey&gt;');
  expectNoToken(notice);
  expect(catcher.to(account.email).filter((m) => m.text.includes('rolled back'))).toEqual([]);
  expect(await db(`SELECT id FROM mail_outbox WHERE recipient = $1 AND kind = 'passkey_added'`, [account.email])).toHaveLength(1);
});
