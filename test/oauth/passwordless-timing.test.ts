import { randomBytes } from 'node:crypto';
import { LOGIN, uniqueEmail } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { FakeGithub } from './support/fake-github';
import { REDIRECT_URI, signIn } from './support/oauth-client';

// Real bcrypt cost, so that skipping the hash for an account without a password would stand out.
const ROUNDS = '10';
const SAMPLES = 7;

const github = new FakeGithub();
let server: TestServer;
beforeAll(async () => {
  await github.start();
  server = await startTestServer({
    BCRYPT_ROUNDS: ROUNDS,
    // The same account fails every sample: no growing delay may answer instead of the check.
    LOGIN_DELAY_AFTER_FAILURES: '50',
    LOGIN_LOCK_AFTER_FAILURES: '100',
    RATE_LIMIT_KEY_PREFIX: `t-${randomBytes(6).toString('hex')}`,
    OAUTH_PROVIDERS: JSON.stringify([github.providerConfig()]), OAUTH_REDIRECT_URIS: REDIRECT_URI,
  });
});
afterAll(async () => {
  await server.stop();
  await github.stop();
});

async function timeLogin(identifier: string, password: string): Promise<{ ms: number; code: string | undefined }> {
  const started = process.hrtime.bigint();
  const res = await server.gql(LOGIN, { input: { identifier, password } });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, code: codeOf(res) };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

test('account enumeration: an account without a password answers a password login like an unknown identifier, in the same time', async () => {
  const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
  const created = await signIn((q, v, t) => server.gql(q, v, t), 'github', (url) => github.authorize(url, user));
  const email = created.data!.completeOAuthLogin.user.email;
  const passwordless: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved so that machine load drifts hit both series alike.
    const a = await timeLogin(email, `Any-password-${i}`);
    const b = await timeLogin(uniqueEmail('ghost'), `Any-password-${i}`);
    expect([a.code, b.code]).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS']);
    passwordless.push(a.ms);
    unknown.push(b.ms);
  }
  const ratio = median(passwordless) / median(unknown);
  // Generous bound: without the dummy hash the ratio is about 0.05 at this cost.
  expect(ratio).toBeGreaterThan(0.6);
  expect(ratio).toBeLessThan(1.6);
});
