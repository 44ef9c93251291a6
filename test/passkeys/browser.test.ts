import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { freePort, isolated } from '../abuse/abuse.helpers';
import { uniqueEmail } from '../support/accounts';
import { startTestServer, type TestServer } from '../support/test-server';
import { Authenticator } from '../two-factor/two-factor.helpers';

/**
 * The demo page in a real browser: Debian's Chromium driven by playwright-core, with Chromium's own
 * WebAuthn virtual authenticator (CTAP2, built in, resident keys, user verification) standing in
 * for a fingerprint reader. The service runs with its development defaults: RP ID localhost and
 * origin http://localhost:PORT, the page's own.
 */
jest.setTimeout(180_000);

const SCREENSHOTS = join(process.cwd(), '.data', 'screenshots');

function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const executable = findChromium();
if (!executable) console.warn('browser tests SKIPPED: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH); the demo page was not tried in a browser');
const browserTest = executable ? test : test.skip;

let server: TestServer;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!executable) return;
  const port = await freePort();
  server = await startTestServer(isolated({ PORT: String(port) }));
  origin = `http://localhost:${port}`;
  // Root in CI: Chromium's sandbox needs user namespaces it may not get there.
  browser = await chromium.launch({ executablePath: executable, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

interface Tab {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
  problems: string[];
}

/** A new tab on the demo page with a virtual platform authenticator (fingerprint reader) attached. */
async function openDemo(): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  await page.goto(`${origin}/demo`);
  return { page, cdp, authenticatorId, problems };
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const signedInAs = (page: Page, email: string) => page.locator('#status').filter({ hasText: `Signed in as ${email}` }).waitFor();

async function signOut(page: Page): Promise<void> {
  await page.click('#sign-out');
  await page.locator('#status').filter({ hasText: 'Signed out' }).waitFor();
}

browserTest('register, add a passkey, sign out, sign in with the passkey (passwordless)', async () => {
  const { page, cdp, authenticatorId, problems } = await openDemo();
  await shot(page, 'demo-1-signed-out');
  const email = uniqueEmail('browser');
  const password = `Browser-${Date.now()}-passkey`;

  await page.fill('#register-form input[name=email]', email);
  await page.fill('#register-form input[name=password]', password);
  await page.click('#register-form button[type=submit]');
  await signedInAs(page, email);

  await page.fill('#passkey-form input[name=password]', password);
  await page.fill('#passkey-form input[name=name]', 'Test laptop');
  await page.click('#passkey-form button[type=submit]');
  await page.locator('#passkey-list li strong', { hasText: 'Test laptop' }).waitFor();
  await shot(page, 'demo-2-passkey-added');

  // The credential lives in the browser's authenticator: discoverable, bound to localhost.
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  expect(credentials[0].userHandle).toBeDefined();
  expect(Buffer.from(credentials[0].userHandle!, 'base64').toString('utf8')).not.toContain(email);

  await signOut(page);
  await page.click('#passkey-login');
  await signedInAs(page, email);
  await page.locator('#passkey-list li small', { hasText: 'last used' }).waitFor();
  expect(problems).toEqual([]);
});

browserTest('with an authenticator app on, a password sign-in offers the passkey as the second step; a passkey alone signs straight in', async () => {
  const { page, problems } = await openDemo();
  const email = uniqueEmail('browser-2fa');
  const password = `Browser-${Date.now()}-twofactor`;
  await page.fill('#register-form input[name=email]', email);
  await page.fill('#register-form input[name=password]', password);
  await page.click('#register-form button[type=submit]');
  await signedInAs(page, email);

  // TOTP: the secret shown on the page, codes computed as an authenticator app would.
  await page.fill('#totp-enable-form input[name=password]', password);
  await page.click('#totp-enable-form button[type=submit]');
  const secret = (await page.locator('#totp-secret').filter({ hasText: /[A-Z2-7]{16,}/ }).textContent())!.trim();
  await shot(page, 'demo-3-totp-setup');
  const app = new Authenticator(secret);
  await page.fill('#totp-confirm-form input[name=code]', await app.next());
  await page.click('#totp-confirm-form button[type=submit]');
  await page.locator('#recovery-codes li').first().waitFor();
  await page.locator('#account dd', { hasText: 'on' }).waitFor();

  await page.fill('#passkey-form input[name=password]', password);
  await page.click('#passkey-form button[type=submit]');
  await page.locator('#passkey-list li strong').first().waitFor();
  await shot(page, 'demo-4-totp-and-passkey');
  await signOut(page);

  // Password first: the challenge lists PASSKEY, and the passkey answers it.
  await page.fill('#login-form input[name=identifier]', email);
  await page.fill('#login-form input[name=password]', password);
  await page.click('#login-form button[type=submit]');
  await page.locator('#second-step-passkey').waitFor({ state: 'visible' });
  await shot(page, 'demo-5-second-step');
  await page.click('#second-step-passkey');
  await signedInAs(page, email);
  await signOut(page);

  // The passkey alone proves two factors: no second step.
  await page.click('#passkey-login');
  await signedInAs(page, email);
  expect(await page.locator('#second-step').isHidden()).toBe(true);
  expect(problems).toEqual([]);
});
