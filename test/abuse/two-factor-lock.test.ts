import { registerAccount, type TestAccount } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { TestClock, withClock } from '../support/test-clock';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { challenge, enrol, verify, type Authenticator } from '../two-factor/two-factor.helpers';
import { isolated, retryAfterOf } from './abuse.helpers';

/** Contract defaults: 2FA failures lock 2FA for an account for 15 minutes at 10. */
const LOCK_AFTER = 10;
const LOCK_SECONDS = 15 * 60;
const WRONG_CODES_PER_CHALLENGE = 5; // a challenge dies after these (CONTRACT.md)

let server: TestServer;
beforeAll(async () => {
  // The server and the authenticators read one clock the test controls: no code is computed near a step boundary.
  server = await startTestServer(isolated(), withClock(new TestClock()));
});
afterAll(() => server.stop());

/** `count` wrong codes, a fresh challenge after every `perChallenge` (the per-challenge cap is not what stops this guesser). */
async function guessWrong(account: TestAccount, authenticator: Authenticator, count: number, perChallenge: number): Promise<void> {
  let token = '';
  for (let i = 0; i < count; i++) {
    if (i % perChallenge === 0) token = await challenge(server, account);
    expect(codeOf(await verify(server, token, authenticator.wrongCode(i)))).toBe('INVALID_TWO_FACTOR_CODE');
  }
}

const failuresOf = async (account: TestAccount): Promise<number> => (await auditTypes(server, account.id)).filter((t) => t === 'two_factor.challenge_failed').length;

test('locks the second factor for 15 minutes at the 10th wrong code, across challenges, refusing even a right code', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  await guessWrong(account, authenticator, LOCK_AFTER, WRONG_CODES_PER_CHALLENGE);
  expect(await failuresOf(account)).toBe(LOCK_AFTER);

  // A right code never used: refused before it is looked at.
  const refused = await verify(server, await challenge(server, account), await authenticator.next());
  expect(codeOf(refused)).toBe('RATE_LIMITED');
  expect(retryAfterOf(refused)).toBeGreaterThan(LOCK_SECONDS - 30);
  expect(retryAfterOf(refused)).toBeLessThanOrEqual(LOCK_SECONDS);

  const types = await auditTypes(server, account.id);
  expect(types.filter((t) => t === 'two_factor.locked')).toHaveLength(1);
});

test('nine wrong codes do not lock, and a right code resets the count', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  await guessWrong(account, authenticator, LOCK_AFTER - 1, WRONG_CODES_PER_CHALLENGE - 1);
  const ok = await verify(server, await challenge(server, account), await authenticator.next());
  expect(typeof ok.data?.verifyTwoFactor.accessToken).toBe('string');

  // Counting starts again: nine more wrong codes are still answered as wrong codes.
  await guessWrong(account, authenticator, LOCK_AFTER - 1, WRONG_CODES_PER_CHALLENGE - 1);
  expect(await failuresOf(account)).toBe(2 * (LOCK_AFTER - 1));
  expect((await auditTypes(server, account.id)).filter((t) => t === 'two_factor.locked')).toHaveLength(0);
});
