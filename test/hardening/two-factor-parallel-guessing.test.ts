import { registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { TestClock, withClock } from '../support/test-clock';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';
import { challenge, enrol, verify } from '../two-factor/two-factor.helpers';

/**
 * Attack: guess second-factor codes in parallel so that every request passes the "is the account
 * locked?" read before any failure is counted. The budget is 10 wrong codes per account per window
 * (TWO_FACTOR_LOCK_AFTER_FAILURES default); before the fix 40 challenges at once checked 90 codes and
 * 150 parallel regenerates checked 102. A checked wrong code leaves one two_factor.challenge_failed
 * audit row, which is what is counted here.
 */
const BUDGET = 10;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(), withClock(new TestClock()));
});
afterAll(() => server.stop());

const checkedCodes = async (userId: string): Promise<number> =>
  (await server.running.services.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE user_id = $1 AND type = 'two_factor.challenge_failed'`, [userId]))[0].n;

test('12 challenges x 5 wrong codes fired at once check at most 10 codes of the account', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  const tokens = await Promise.all(Array.from({ length: 12 }, () => challenge(server, account)));
  const results = await Promise.all(tokens.flatMap((token, t) => Array.from({ length: 5 }, (_, i) => verify(server, token, authenticator.wrongCode(t * 5 + i)))));
  expect(results).toHaveLength(60);
  expect(results.filter((r) => codeOf(r) === 'INVALID_TWO_FACTOR_CODE').length).toBeLessThanOrEqual(BUDGET);
  expect(await checkedCodes(account.id)).toBeLessThanOrEqual(BUDGET);
  // Every request got an answer from the contract's catalogue, none a 500.
  for (const r of results) expect(['INVALID_TWO_FACTOR_CODE', 'RATE_LIMITED', 'INVALID_TOKEN']).toContain(codeOf(r));
  expect(results.filter((r) => codeOf(r) === 'RATE_LIMITED').length).toBeGreaterThan(0);
});

test('40 parallel regenerateRecoveryCodes with wrong codes check at most 10 codes', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => server.gql(operation('RegenerateRecoveryCodes'), { code: authenticator.wrongCode(i) }, account.accessToken)),
  );
  expect(results.filter((r) => codeOf(r) === 'INVALID_TWO_FACTOR_CODE').length).toBeLessThanOrEqual(BUDGET);
  expect(await checkedCodes(account.id)).toBeLessThanOrEqual(BUDGET);
  expect(await checkedCodes(account.id)).toBeGreaterThan(0);
});

test('positive control: an account that guesses nothing passes its second factor at once', async () => {
  const account = await registerAccount(server);
  const { authenticator } = await enrol(server, account);
  const res = await verify(server, await challenge(server, account), await authenticator.next());
  expect(res.errors).toBeUndefined();
  expect(res.data?.verifyTwoFactor.accessToken).toEqual(expect.any(String));
});
