import { featureConfig, loadConfig } from '../../src/app/config';
import { mailModule } from '../../src/mail/mail.module';
import { parseSmtpUrl } from '../../src/mail/mail.config';
import { smtpTransportOptions } from '../../src/mail/mail-transport';
import { productionEnv, refusedVariable } from '../support/config-env';
import { runServiceExpectingExit } from '../support/service-process';

const mailConfig = (env: Record<string, string>) => featureConfig(loadConfig(env), mailModule);

test.each(['SMTP_URL', 'APP_URL', 'MAIL_FROM'])('production refuses to start without %s, naming it', (name) => {
  const { [name]: _, ...env } = productionEnv();
  expect(refusedVariable(env)).toBe(name);
});

test('a production start without SMTP_URL exits non-zero with one line naming it', async () => {
  const { SMTP_URL: _, ...env } = productionEnv();
  const res = await runServiceExpectingExit({ ...env, DATABASE_URL: process.env.TEST_DATABASE_URL });
  expect(res.code).not.toBe(0);
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^bouncer: configuration error: SMTP_URL: is required in production/);
});

test('outside production nothing is required: no SMTP_URL means the console, APP_URL the service itself', () => {
  const config = mailConfig({});
  expect(config.smtp).toBeUndefined();
  expect(config.appUrl).toBeUndefined();
  expect(config.from).toEqual({ name: 'Bouncer', address: 'no-reply@localhost' });
  expect(mailConfig(productionEnv())).toMatchObject({ appUrl: 'https://app.example.com', from: { name: 'Bouncer', address: 'no-reply@example.com' } });
});

test('SMTP_URL: plain allowed on loopback only, STARTTLS required elsewhere, smtps:// is implicit TLS, AUTH from the URL', () => {
  expect(parseSmtpUrl('smtp://127.0.0.1:2525')).toEqual({ host: '127.0.0.1', port: 2525, implicitTls: false, requireTls: false, auth: undefined });
  expect(parseSmtpUrl('smtp://localhost').requireTls).toBe(false);
  expect(parseSmtpUrl('smtp://[::1]:25')).toMatchObject({ host: '::1', requireTls: false });
  expect(parseSmtpUrl('smtp://mail.example.com')).toMatchObject({ port: 587, implicitTls: false, requireTls: true });
  expect(parseSmtpUrl('smtp://10.0.0.5:25').requireTls).toBe(true); // private is not loopback
  expect(parseSmtpUrl('smtps://mail.example.com')).toMatchObject({ port: 465, implicitTls: true, requireTls: false });
  expect(parseSmtpUrl('smtp://ada%40example.com:p%40ss%3Aword@mail.example.com:587').auth).toEqual({ user: 'ada@example.com', pass: 'p@ss:word' });

  const options = smtpTransportOptions(parseSmtpUrl('smtp://u:p@mail.example.com:587'));
  expect(options).toMatchObject({ host: 'mail.example.com', port: 587, secure: false, requireTLS: true, ignoreTLS: false, auth: { user: 'u', pass: 'p' } });
  expect(options.tls).not.toHaveProperty('rejectUnauthorized'); // certificates are verified
  expect(smtpTransportOptions(parseSmtpUrl('smtps://mail.example.com'))).toMatchObject({ secure: true, port: 465 });
});

test.each([
  ['SMTP_URL', 'http://mail.example.com'],
  ['SMTP_URL', 'mail.example.com:25'],
  ['SMTP_URL', 'smtp://mail.example.com/path'],
  ['APP_URL', 'ftp://app.example.com'],
  ['APP_URL', 'https://app.example.com/#x'],
  ['MAIL_FROM', 'not an address'],
  ['MAIL_FROM', 'Name <nobody>'],
  ['MAIL_POLL_MS', '10'],
  ['MAIL_RETRY_FIRST_SECONDS', '6'],
])('%s=%s is refused, naming the variable', (name, value) => {
  expect(refusedVariable({ [name]: value })).toBe(name);
});

test('APP_URL keeps a path prefix and loses a trailing slash; MAIL_FROM takes a display name', () => {
  expect(mailConfig({ APP_URL: 'https://example.com/auth/' }).appUrl).toBe('https://example.com/auth');
  expect(mailConfig({ MAIL_FROM: '"Acme Accounts" <accounts@acme.test>' }).from).toEqual({ name: 'Acme Accounts', address: 'accounts@acme.test' });
});
