import { Secret, TOTP } from 'otpauth';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, isolated, login, retryAfterOf } from './abuse.helpers';

/** Contract defaults: 2FA failures lock 2FA for an account for 15 minutes at 10. */
const LOCK_AFTER = 10;
const LOCK_SECONDS = 15 * 60;
const WRONG_CODES_PER_CHALLENGE = 5; // a challenge dies after these (CONTRACT.md)

const VERIFY = 'mutation($i: VerifyTwoFactorInput!) { verifyTwoFactor(input: $i) { accessToken } }';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

function totp(secret: string, offsetSteps = 0): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + offsetSteps * 30_000 });
}

/** A code that no step in the ±1 window of `secret` produces. */
function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((o) => totp(secret, o)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

async function enableTwoFactor(account: TestAccount): Promise<string> {
  const setup = await server.gql('mutation($p: String!) { enableTwoFactor(password: $p) { secret } }', { p: account.password }, account.accessToken);
  const secret = setup.data?.enableTwoFactor.secret as string;
  const confirmed = await server.gql('mutation($c: String!) { confirmTwoFactor(code: $c) { codes } }', { c: totp(secret) }, account.accessToken);
  expect(confirmed.data?.confirmTwoFactor.codes).toHaveLength(10);
  return secret;
}

async function challenge(account: TestAccount): Promise<string> {
  const res = await login(server, account.email, account.password);
  expect(res.data?.login.__typename).toBe('TwoFactorChallenge');
  return res.data?.login.challengeToken as string;
}

test('locks the second factor for 15 minutes at the 10th wrong code, across challenges, refusing even a right code', async () => {
  const account = await registerAccount(server);
  const secret = await enableTwoFactor(account);

  let failures = 0;
  while (failures < LOCK_AFTER) {
    // A fresh challenge each time one dies: the per-challenge cap is not what stops this guesser.
    const token = await challenge(account);
    for (let i = 0; i < WRONG_CODES_PER_CHALLENGE && failures < LOCK_AFTER; i++, failures++) {
      expect(codeOf(await server.gql(VERIFY, { i: { challengeToken: token, code: wrongCode(secret) } }))).toBe('INVALID_TWO_FACTOR_CODE');
    }
  }

  // The confirmation used the current step; the next one is a right code never used.
  const refused = await server.gql(VERIFY, { i: { challengeToken: await challenge(account), code: totp(secret, 1) } });
  expect(codeOf(refused)).toBe('RATE_LIMITED');
  expect(retryAfterOf(refused)).toBeGreaterThan(LOCK_SECONDS - 30);
  expect(retryAfterOf(refused)).toBeLessThanOrEqual(LOCK_SECONDS);

  const types = await auditTypes(server, account.id);
  expect(types.filter((t) => t === 'two_factor.locked')).toHaveLength(1);
});

test('nine wrong codes do not lock, and a right code resets the count', async () => {
  const account = await registerAccount(server);
  const secret = await enableTwoFactor(account);
  let failures = 0;
  while (failures < LOCK_AFTER - 1) {
    const token = await challenge(account);
    for (let i = 0; i < WRONG_CODES_PER_CHALLENGE - 1 && failures < LOCK_AFTER - 1; i++, failures++) {
      expect(codeOf(await server.gql(VERIFY, { i: { challengeToken: token, code: wrongCode(secret) } }))).toBe('INVALID_TWO_FACTOR_CODE');
    }
  }
  const ok = await server.gql(VERIFY, { i: { challengeToken: await challenge(account), code: totp(secret, 1) } });
  expect(typeof ok.data?.verifyTwoFactor.accessToken).toBe('string');

  // Counting starts again: nine more wrong codes are still answered as wrong codes.
  failures = 0;
  while (failures < LOCK_AFTER - 1) {
    const token = await challenge(account);
    for (let i = 0; i < WRONG_CODES_PER_CHALLENGE - 1 && failures < LOCK_AFTER - 1; i++, failures++) {
      expect(codeOf(await server.gql(VERIFY, { i: { challengeToken: token, code: wrongCode(secret) } }))).toBe('INVALID_TWO_FACTOR_CODE');
    }
  }
});
