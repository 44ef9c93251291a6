import { counted } from './statement-counter';
import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';
import { challenge, enrol, independentCode, verify, type Authenticator } from '../two-factor/two-factor.helpers';

/**
 * Database work per request (issue #14): what limits many instances on one PostgreSQL is the
 * statements each request sends, not one instance's speed. Budgets: a login at most 5 statements,
 * rate limits included; a refresh of the current token 1; the 2FA step 2, rate limits included.
 * Counted in the service's own process, one request at a time (never timed).
 */
const REFRESH = 'mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken refreshToken } }';
const ME = '{ me { id } }';
const LOGIN_BUDGET = 5;
/** The 2FA step: the challenge read (which counts the attempt) and one write (#14: "at most 2 round trips"). */
const STEP_BUDGET = 2;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated());
});
afterAll(() => server.stop());

const login = (account: TestAccount, password = account.password) => server.gql(LOGIN, { input: { identifier: account.email, password } });

describe('statements per request (PostgreSQL counters)', () => {
  test(`a successful login costs at most ${LOGIN_BUDGET} statements, rate limits included`, async () => {
    const account = await registerAccount(server);
    const { result, pg } = await counted(() => login(account));
    expect(result.data?.login.__typename).toBe('AuthPayload');
    expect(pg.length).toBeLessThanOrEqual(LOGIN_BUDGET);
    // The throttle is one round trip before the password check and one after it.
    expect(pg.filter((s) => s.startsWith('throttle_'))).toEqual(['throttle_begin', 'throttle_settle']);
  });

  test('a wrong password and an unknown identifier cost the same statements (no timing oracle), within the budget', async () => {
    const account = await registerAccount(server);
    const wrong = await counted(() => login(account, `${account.password}-wrong`));
    const unknown = await counted(() => server.gql(LOGIN, { input: { identifier: `nobody-${account.id}@example.com`, password: account.password } }));
    expect(codeOf(wrong.result)).toBe('INVALID_CREDENTIALS');
    expect(codeOf(unknown.result)).toBe('INVALID_CREDENTIALS');
    expect(wrong.pg.length).toBeLessThanOrEqual(LOGIN_BUDGET);
    expect(unknown.pg.map(shape)).toEqual(wrong.pg.map(shape));
  });

  test('a refresh of the current token is one statement; a racing tab inside the grace window gets the same successor', async () => {
    const account = await registerAccount(server);
    const first = await counted(() => server.gql(REFRESH, { r: account.refreshToken }));
    expect(first.result.errors).toBeUndefined();
    expect(first.pg).toEqual(['refresh_rotate']);
    // Positive control of the path the one statement leaves to the transaction: the retired token.
    const racing = await counted(() => server.gql(REFRESH, { r: account.refreshToken }));
    expect(racing.result.data?.refreshToken.refreshToken).toBe(first.result.data?.refreshToken.refreshToken);
    expect(racing.pg.length).toBeGreaterThan(1);
  });

  test('an unknown refresh token is refused after one statement', async () => {
    const { result, pg } = await counted(() => server.gql(REFRESH, { r: 'never-issued-token' }));
    expect(codeOf(result)).toBe('INVALID_TOKEN');
    expect(pg).toEqual(['refresh_rotate']);
  });

  describe('the 2FA step', () => {
    let account: TestAccount;
    let authenticator: Authenticator;
    let recoveryCodes: string[];
    beforeAll(async () => {
      account = await registerAccount(server);
      ({ authenticator, recoveryCodes } = await enrol(server, account));
    });

    test(`a login that owes a second factor costs at most ${LOGIN_BUDGET} statements: the factors answer inside the challenge's statement`, async () => {
      const { result, pg } = await counted(() => login(account));
      expect(result.data?.login.__typename).toBe('TwoFactorChallenge');
      // The methods come from the factors' own tables (recovery codes, passkeys) and the account row.
      expect(result.data?.login.methods).toEqual(['TOTP', 'RECOVERY_CODE']);
      expect(pg.length).toBeLessThanOrEqual(LOGIN_BUDGET);
      // No factor sends a read of its own: a new factor must answer in the challenge's statement too.
      expect(pg.filter((s) => /recovery_codes|passkeys/.test(s))).toEqual([]);
      expect(pg.filter((s) => s.startsWith('challenge_issue'))).toHaveLength(1);
    });

    test.each([
      ['a TOTP code', () => authenticator.next()],
      ['a recovery code', async () => recoveryCodes.pop()!],
    ])('with %s: two statements, the throttle included (the read counts the attempt, the write spends, opens and settles)', async (_what, code) => {
      const token = await challenge(server, account);
      const answer = await code();
      const { result, pg } = await counted(() => verify(server, token, answer));
      expect(result.errors).toBeUndefined();
      expect(result.data?.verifyTwoFactor.accessToken).toEqual(expect.any(String));
      expect(pg.map((s) => s.replace(/_[0-9a-f]{24}$/, ''))).toEqual(['challenge_read', 'two_factor_step']);
      expect(pg).toHaveLength(STEP_BUDGET);
    });

    test('positive control: a wrong code takes the transaction that counts it', async () => {
      const token = await challenge(server, account);
      const valid = new Set([-1, 0, 1].map((offset) => independentCode(authenticator.secret, offset)));
      const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
      const { result, pg } = await counted(() => verify(server, token, wrong));
      expect(codeOf(result)).toBe('INVALID_TWO_FACTOR_CODE');
      expect(pg).toContain('START TRANSACTION');
    });
  });

  test('me is one statement', async () => {
    const account = await registerAccount(server);
    const { result, pg } = await counted(() => server.gql(ME, {}, account.accessToken));
    expect(result.data?.me.id).toBe(account.id);
    expect(pg).toHaveLength(1);
  });
});

describe('statements per request (Redis counters)', () => {
  let redisServer: TestServer;
  beforeAll(async () => {
    redisServer = await startTestServer(isolated({ REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }));
  });
  afterAll(() => redisServer.stop());

  test('a successful login is one Redis script before the password check and one after, and two PostgreSQL statements', async () => {
    const account = await registerAccount(redisServer);
    await redisServer.gql(LOGIN, { input: { identifier: account.email, password: account.password } }); // loads the scripts
    const { result, pg, redis } = await counted(() => redisServer.gql(LOGIN, { input: { identifier: account.email, password: account.password } }));
    expect(result.data?.login.__typename).toBe('AuthPayload');
    expect(redis).toEqual(['evalsha', 'evalsha']);
    expect(pg.length + redis.length).toBeLessThanOrEqual(LOGIN_BUDGET);
  });

  test('the 2FA step is the same two PostgreSQL statements, with one Redis script before the code is checked and one after', async () => {
    const account = await registerAccount(redisServer);
    const { authenticator } = await enrol(redisServer, account);
    const token = await challenge(redisServer, account);
    const code = await authenticator.next();
    const { result, pg, redis } = await counted(() => verify(redisServer, token, code));
    expect(result.data?.verifyTwoFactor.accessToken).toEqual(expect.any(String));
    expect(pg.map((s) => s.replace(/_[0-9a-f]{24}$/, ''))).toEqual(['challenge_read', 'two_factor_step']);
    expect(redis).toEqual(['evalsha', 'evalsha']);
  });
});

/** A statement without its literal values: the same work for a known and an unknown account. */
function shape(statement: string): string {
  return statement.replace(/\$\d+/g, '$');
}
