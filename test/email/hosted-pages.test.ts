import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MailCatcher, linkOf } from '../mail/mail-catcher';
import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { codeOf, type TestServer } from '../support/test-server';
import { EMAIL_STATE, registerAndCatch, REQUEST_EMAIL_CHANGE, requestReset, startMailingServer, strongPassword, SUBJECT, tokenOf, VERIFY_EMAIL } from './email.helpers';

/** Debian's chromium (`.ci/run` installs it); playwright-core drives it and never downloads a browser. */
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const SCREENSHOTS = join(__dirname, '..', '..', '.data', 'screenshots');
const PAGES = ['/verify-email', '/reset-password', '/confirm-email-change'];

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

describe('the pages over HTTP', () => {
  test.each(PAGES)('%s is small static HTML with its script in a separate file under a strict Content-Security-Policy', async (path) => {
    const res = await fetch(`${server.origin}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN'); // helmet's, as on every answer
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe');
    const html = await res.text();
    expect(html.length).toBeLessThan(3_000);
    expect(html).toMatch(/<script src="email\/pages\.js"><\/script>/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/); // nor inline style or handlers
  });

  test('the script and stylesheet are served with their types; other methods are refused; other paths stay 404', async () => {
    const js = await fetch(`${server.origin}/email/pages.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('location.hash');
    expect((await fetch(`${server.origin}/email/pages.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${server.origin}/verify-email`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.origin}/verify-email/x`)).status).toBe(404);
  });

  test('link scanner spends the token: a scanner fetching the emailed link (the server never sees the fragment) spends nothing', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    const link = linkOf(mail);
    const scanned = await fetch(link, { headers: { 'user-agent': 'SafeLinks-Scanner/1.0' } });
    expect(scanned.status).toBe(200);
    expect(await scanned.text()).not.toContain(tokenOf(mail));
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.emailVerified).toBe(false);
    expect((await server.gql(VERIFY_EMAIL, { token: tokenOf(mail) })).data?.verifyEmail).toBe(true);
  });
});

const describeInBrowser = CHROMIUM ? describe : describe.skip;
if (!CHROMIUM) {
  // Visible in every run's output: the browser tests did not run on this machine.
  console.warn('SKIPPED: hosted-page browser tests need Chromium (apt-get install chromium, or CHROMIUM_PATH); none found.');
}

describeInBrowser('the pages in a real browser (Chromium)', () => {
  let browser: Browser;
  let page: Page;
  let problems: string[];
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(() => browser?.close());
  beforeEach(async () => {
    page = await browser.newPage();
    problems = [];
    // A CSP violation or a script error shows up here.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });
  afterEach(async () => {
    await page.close();
    expect(problems).toEqual([]);
  });
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  test('verify-email: the emailed link opens the page; a scanner that runs scripts spends nothing; the button verifies', async () => {
    const { account, mail } = await registerAndCatch(server, catcher);
    // The HTML part as a mail client shows it: its button carries the same link.
    await page.setContent(mail.html);
    expect(await page.getByRole('link', { name: 'Confirm my email address' }).getAttribute('href')).toBe(linkOf(mail));
    await shot('mail-verify-email');

    await page.goto(linkOf(mail));
    await page.getByRole('button', { name: 'Confirm my email address' }).waitFor();
    await shot('verify-email');
    expect(new URL(page.url()).hash).toBe(''); // the token left the address bar and history
    await page.waitForTimeout(300);
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.emailVerified).toBe(false);

    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.getByText('Your email address is confirmed').waitFor();
    await shot('verify-email-done');
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me.emailVerified).toBe(true);

    // The same link again: the page says it no longer works.
    await page.goto(linkOf(mail));
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.getByText('This link no longer works').waitFor();
    await shot('verify-email-used');
  });

  test('reset-password: the page shows the field errors the API returns, then sets the password; the user signs in afterwards', async () => {
    const account = await registerAccount(server);
    const mail = await requestReset(server, catcher, account.email);
    await page.goto(linkOf(mail));
    await page.getByLabel('New password', { exact: true }).fill('password123');
    await page.getByLabel('New password again').fill('password123');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.locator('#newPassword-error').getByText('too common').waitFor();
    await shot('reset-password-refused');

    await page.getByLabel('New password', { exact: true }).fill('not the same 1');
    await page.getByLabel('New password again').fill('not the same 2');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('The two passwords differ.').waitFor();

    const newPassword = strongPassword();
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('New password again').fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password is changed').waitFor();
    await shot('reset-password-done');
    expect(codeOf(await server.gql(EMAIL_STATE, {}, account.accessToken))).toBe('UNAUTHENTICATED'); // every session ended
    expect((await server.gql(LOGIN, { input: { identifier: account.email, password: newPassword } })).data?.login.__typename).toBe('AuthPayload');
  });

  test('confirm-email-change: the link from the new address makes it the account address', async () => {
    const account = await registerAccount(server);
    const newEmail = uniqueEmail('moved');
    await server.gql(REQUEST_EMAIL_CHANGE, { newEmail, password: account.password }, account.accessToken);
    await page.goto(linkOf(await catcher.latest(newEmail, SUBJECT.change)));
    await shot('confirm-email-change');
    await page.getByRole('button', { name: 'Confirm my new address' }).click();
    await page.getByText('Your new email address is confirmed').waitFor();
    await shot('confirm-email-change-done');
    expect((await server.gql(EMAIL_STATE, {}, account.accessToken)).data?.me).toMatchObject({ email: newEmail, emailVerified: true });
  });

  test('a link without its token says so and offers no button', async () => {
    await page.goto(`${server.origin}/reset-password`);
    await page.getByText('This link is incomplete').waitFor();
    expect(await page.getByRole('button').count()).toBe(0);
    await shot('reset-password-no-token');
  });
});
