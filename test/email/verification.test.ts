import { MailCatcher, linkOf } from '../mail/mail-catcher';
import { REGISTER } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, type TestServer } from '../support/test-server';
import { claimsOf, EMAIL_STATE, registerAndCatch, SEND_VERIFICATION, startMailingServer, SUBJECT, tokenOf, VERIFY_EMAIL } from './email.helpers';

const REFRESH = operation('RefreshToken');

let catcher: MailCatcher;
let server: TestServer;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  server = await startMailingServer(catcher, { VERIFICATION_EMAILS_PER_HOUR: '3' });
});
afterAll(async () => {
  await server.stop();
  await catcher.stop();
});

const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => server.running.services.dataSource.query(text, values);

describe('the verification mail register sends', () => {
  test('has a text part with the link alone on a line, an HTML part with the same link, and the right headers', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.parsed.from?.value[0]).toEqual({ name: 'Bouncer Test', address: 'no-reply@bouncer.test' });
    expect(mail.to).toBe(account.email);
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    // Both parts: multipart/alternative with text/plain and text/html.
    expect(mail.parsed.text).toBeTruthy();
    expect(mail.parsed.html).toBeTruthy();
    const link = linkOf(mail);
    // APP_URL unset in tests: the service's own address, so the link opens the page it serves.
    expect(link).toMatch(new RegExp(`^${server.origin.replace(/[.]/g, '\\.')}/verify-email#token=[A-Za-z0-9_-]{43,}$`));
    expect(Buffer.from(tokenOf(mail), 'base64url').length).toBeGreaterThanOrEqual(32); // 256 bits
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.text).toContain(account.email);
    expect(mail.text).toContain('24 hours');
    // The Message-ID names the outbox row: a resend after a crash is recognisably the same mail.
    const [row] = await db<{ id: string }>(`SELECT id FROM mail_outbox WHERE recipient = $1 AND kind = 'verify_email'`, [account.email]);
    expect(mail.messageId).toBe(`<${row.id}@bouncer.test>`);
  });

  test('is written in the transaction that creates the account: a refused registration queues nothing', async () => {
    const { account } = await registerAndCatch(server, catcher);
    const again = await server.gql(REGISTER, { input: { email: account.email, password: 'Another-strong-pass-42' } });
    expect(codeOf(again)).toBe('EMAIL_TAKEN');
    const rows = await db(`SELECT id FROM mail_outbox WHERE recipient = $1`, [account.email]);
    expect(rows).toHaveLength(1); // the first registration's only
  });
});

describe('verifyEmail', () => {
  test('verifies the address; access tokens issued afterwards carry email_verified', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    expect(claimsOf(account.accessToken).email_verified).toBe(false);
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me).toMatchObject({ emailVerified: false, pendingEmail: null, hasPassword: true });

    const res = await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) });
    expect(res.errors).toBeUndefined();
    expect(res.data?.verifyEmail).toBe(true);
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.emailVerified).toBe(true);
    const refreshed = await server.gql(REFRESH, { refreshToken: account.refreshToken });
    expect(claimsOf(refreshed.data!.refreshToken.accessToken).email_verified).toBe(true);
    const types = await db<{ type: string }>(`SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id`, [account.id]);
    expect(types.map((t) => t.type)).toEqual(['user.registered', 'user.email_verification_sent', 'user.email_verified']);
  });

  test('replayed verification token: the second use is INVALID_TOKEN', async () => {
    const { mail } = await registerAndCatch(server, catcher);
    expect((await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) })).data?.verifyEmail).toBe(true);
    expect(codeOf(await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) }))).toBe('INVALID_TOKEN');
  });

  test('one token raced by ten requests: exactly one succeeds', async () => {
    const { mail } = await registerAndCatch(server, catcher);
    const results = await Promise.all(Array.from({ length: 10 }, () => server.gql(VERIFY_EMAIL, { token: tokenOf(mail) })));
    expect(results.filter((r) => r.data?.verifyEmail === true)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'INVALID_TOKEN')).toHaveLength(9);
  });

  test('forged, truncated and oversized tokens are INVALID_TOKEN (positive control: the real one works)', async () => {
    const { mail } = await registerAndCatch(server, catcher);
    const token = tokenOf(mail);
    for (const bad of ['', 'x', token.slice(0, -1), `${token}A`, 'A'.repeat(10_000)]) {
      expect(codeOf(await server.gql(VERIFY_EMAIL, { token: bad }))).toBe('INVALID_TOKEN');
    }
    expect((await server.gql(VERIFY_EMAIL, { token })).data?.verifyEmail).toBe(true);
  });

  test('an expired verification token (older than 24 hours) is INVALID_TOKEN', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    const [row] = await db<{ lifetime: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int AS lifetime FROM email_tokens WHERE user_id = $1 AND kind = 'verify_email'`,
      [account.id],
    );
    expect(row.lifetime).toBe(24 * 60 * 60);
    await db(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [account.id]);
    expect(codeOf(await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) }))).toBe('INVALID_TOKEN');
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.emailVerified).toBe(false);
  });

  test('a verification token is not an access token, and a verify link is no reset link', async () => {
    const { mail } = await registerAndCatch(server, catcher);
    expect(codeOf(await server.gql(EMAIL_STATE, {}, tokenOf(mail)))).toBe('UNAUTHENTICATED');
    const reset = await server.gql(operation('ResetPassword'), { token: tokenOf(mail), newPassword: 'Some-new-password-77' });
    expect(codeOf(reset)).toBe('INVALID_TOKEN');
    expect((await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) })).data?.verifyEmail).toBe(true);
  });
});

describe('sendVerificationEmail', () => {
  test('sends a new link and retires the older one', async () => {
    const { account, mail: first } = await registerAndCatch(server, catcher);
    const res = await server.gql(SEND_VERIFICATION, {}, account.accessToken);
    expect(res.data?.sendVerificationEmail).toBe(true);
    const second = await catcher.next(account.email, SUBJECT.verify);
    expect(tokenOf(second)).not.toBe(tokenOf(first));
    expect(codeOf(await server.gql(VERIFY_EMAIL, { token: tokenOf(first) }))).toBe('INVALID_TOKEN');
    expect((await server.gql(VERIFY_EMAIL, { token: tokenOf(second) })).data?.verifyEmail).toBe(true);
  });

  test('answers false once the address is verified, and sends nothing', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) });
    const before = (await db(`SELECT id FROM mail_outbox WHERE recipient = $1`, [account.email])).length;
    expect((await server.gql(SEND_VERIFICATION, {}, account.accessToken)).data?.sendVerificationEmail).toBe(false);
    expect(await db(`SELECT id FROM mail_outbox WHERE recipient = $1`, [account.email])).toHaveLength(before);
  });

  test('needs a signed-in caller', async () => {
    expect(codeOf(await server.gql(SEND_VERIFICATION, {}))).toBe('UNAUTHENTICATED');
  });

  test('inbox flooding through resends: RATE_LIMITED with retryAfter past the hourly budget (3 here)', async () => {
    const { account } = await registerAndCatch(server, catcher);
    for (let i = 0; i < 3; i++) expect((await server.gql(SEND_VERIFICATION, {}, account.accessToken)).data?.sendVerificationEmail).toBe(true);
    const refused = await server.gql(SEND_VERIFICATION, {}, account.accessToken);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfter).toBeGreaterThan(0);
    // Another account keeps its own budget.
    const other = await registerAndCatch(server, catcher);
    expect((await server.gql(SEND_VERIFICATION, {}, other.account.accessToken)).data?.sendVerificationEmail).toBe(true);
  });
});
