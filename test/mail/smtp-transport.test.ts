import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSmtpUrl } from '../../src/mail/mail.config';
import { SMTP_POOL_CONNECTIONS, smtpTransport, type OutgoingMessage } from '../../src/mail/mail-transport';
import { MailCatcher } from './mail-catcher';

/** A certificate for localhost that only these tests trust. */
let cert: string;
let key: string;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-smtp-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const FROM = { name: 'Bouncer', address: 'no-reply@bouncer.test' };
const message = (to: string): OutgoingMessage => ({ id: '00000000-0000-4000-8000-000000000001', to, subject: 'Hello', text: 'Hello\n', html: '<p>Hello</p>' });

const catchers: MailCatcher[] = [];
async function catcher(server: ConstructorParameters<typeof MailCatcher>[0] = {}): Promise<MailCatcher> {
  const started = await new MailCatcher(server).start();
  catchers.push(started);
  return started;
}
afterAll(async () => {
  for (const c of catchers) await c.stop();
});

test('AUTH with the user and password of SMTP_URL (percent-decoded); a wrong password is refused', async () => {
  const mailbox = await catcher({
    server: {
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true, // loopback, plain: what a local relay does
      authOptional: false,
      onAuth: (auth, _session, callback) =>
        auth.username === 'mailer@bouncer.test' && auth.password === 'p@ss:word' ? callback(null, { user: auth.username }) : callback(new Error('Invalid credentials')),
    },
  });
  const good = smtpTransport(parseSmtpUrl(`smtp://mailer%40bouncer.test:p%40ss%3Aword@127.0.0.1:${mailbox.port}`), FROM);
  await good.send(message('ada@example.com'));
  expect(mailbox.to('ada@example.com')[0]).toMatchObject({ user: 'mailer@bouncer.test', secure: false });

  const bad = smtpTransport(parseSmtpUrl(`smtp://mailer%40bouncer.test:wrong@127.0.0.1:${mailbox.port}`), FROM);
  await expect(bad.send(message('bob@example.com'))).rejects.toThrow();
  expect(mailbox.to('bob@example.com')).toEqual([]);
  good.close();
  bad.close();
});

test('on loopback, STARTTLS is used when the server offers it', async () => {
  const mailbox = await catcher({ server: { disabledCommands: ['AUTH'], key, cert } });
  const transport = smtpTransport(parseSmtpUrl(`smtp://localhost:${mailbox.port}`), FROM, { tls: { ca: cert } });
  await transport.send(message('ada@example.com'));
  expect(mailbox.to('ada@example.com')[0].secure).toBe(true);
  transport.close();
});

test('mail in plain text to a non-loopback host: refused when the server offers no STARTTLS (positive control: loopback sends)', async () => {
  const plain = await catcher(); // no STARTTLS
  // The URL names a remote host (so TLS is required); the connection goes to the test server.
  const remote = smtpTransport(parseSmtpUrl(`smtp://mail.example.test:${plain.port}`), FROM, { host: '127.0.0.1' });
  await expect(remote.send(message('ada@example.com'))).rejects.toThrow();
  expect(plain.to('ada@example.com')).toEqual([]);

  const local = smtpTransport(parseSmtpUrl(`smtp://127.0.0.1:${plain.port}`), FROM);
  await local.send(message('ada@example.com'));
  expect(plain.to('ada@example.com')[0].secure).toBe(false);
  remote.close();
  local.close();
});

test('mail to a server whose certificate cannot be verified: refused (positive control: the trusted certificate sends)', async () => {
  const mailbox = await catcher({ server: { disabledCommands: ['AUTH'], key, cert } });
  const untrusted = smtpTransport(parseSmtpUrl(`smtp://mail.example.test:${mailbox.port}`), FROM, { host: '127.0.0.1' });
  await expect(untrusted.send(message('ada@example.com'))).rejects.toThrow();
  expect(mailbox.to('ada@example.com')).toEqual([]);
  const trusted = smtpTransport(parseSmtpUrl(`smtp://localhost:${mailbox.port}`), FROM, { tls: { ca: cert } });
  await trusted.send(message('ada@example.com'));
  expect(mailbox.to('ada@example.com')[0].secure).toBe(true);
  untrusted.close();
  trusted.close();
});

test('smtps:// speaks TLS from the first byte (implicit TLS)', async () => {
  const mailbox = await catcher({ server: { secure: true, disabledCommands: ['AUTH'], key, cert } });
  const transport = smtpTransport(parseSmtpUrl(`smtps://localhost:${mailbox.port}`), FROM, { tls: { ca: cert } });
  await transport.send(message('ada@example.com'));
  expect(mailbox.to('ada@example.com')[0].secure).toBe(true);
  // A plain-text client gets nowhere on that port.
  const plain = smtpTransport(parseSmtpUrl(`smtp://127.0.0.1:${mailbox.port}`), FROM, { greetingTimeout: 1000 });
  await expect(plain.send(message('bob@example.com'))).rejects.toThrow();
  transport.close();
  plain.close();
});

test('a burst of mails shares a few pooled SMTP connections instead of opening one per mail', async () => {
  let connections = 0;
  const mailbox = await catcher({
    server: {
      onConnect: (_session, callback) => {
        connections++;
        callback();
      },
    },
  });
  const transport = smtpTransport(parseSmtpUrl(`smtp://127.0.0.1:${mailbox.port}`), FROM);
  const burst = Array.from({ length: 20 }, (_, i) => `burst${i}@example.com`);
  await Promise.all(burst.map((to) => transport.send(message(to))));
  transport.close();
  for (const to of burst) expect(mailbox.to(to)).toHaveLength(1);
  expect(connections).toBeGreaterThan(0);
  expect(connections).toBeLessThanOrEqual(SMTP_POOL_CONNECTIONS);
});
