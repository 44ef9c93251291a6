import { randomBytes } from 'node:crypto';
import { registerAccount } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { operation } from '../support/operations';
import { TestClock, withClock } from '../support/test-clock';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { challenge, enrol, verify, type Authenticator } from './two-factor.helpers';

/**
 * How the two-factor flows drive the account-wide 2FA throttle (the service's own, with a lock after
 * LOCK_AFTER failures): counted before every code, settled by every verdict, and a lock is audited.
 */
const LOCK_AFTER = 3;
const RETRY_AFTER_SECONDS = 900;

describe('the account 2FA throttle', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      {
        TWO_FACTOR_LOCK_AFTER_FAILURES: String(LOCK_AFTER),
        TWO_FACTOR_LOCK_SECONDS: String(RETRY_AFTER_SECONDS),
        RATE_LIMIT_KEY_PREFIX: `t2fa-${randomBytes(6).toString('hex')}`,
      },
      withClock(new TestClock()),
    );
  });
  afterAll(() => server.stop());

  const lockSecondFactor = async (account: Awaited<ReturnType<typeof registerAccount>>, authenticator: Authenticator) => {
    for (let i = 0; i < LOCK_AFTER; i++) {
      expect(codeOf(await verify(server, await challenge(server, account), authenticator.wrongCode(i)))).toBe('INVALID_TWO_FACTOR_CODE');
    }
  };

  test('every wrong code counts toward the account 2FA throttle, across challenges, and the lock is audited', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const right = await authenticator.next();
    // A new challenge each time: the per-challenge limit is not what stops this guesser.
    await lockSecondFactor(account, authenticator);
    const types = await auditTypes(server, account.id);
    expect(types.filter((t) => t === 'two_factor.challenge_failed')).toHaveLength(LOCK_AFTER);
    expect(types.filter((t) => t === 'two_factor.locked')).toHaveLength(1);

    // Locked: even the right code is refused before it is looked at, and is not used up.
    const [before] = await server.running.services.dataSource.query('SELECT totp_last_step FROM users WHERE id = $1', [account.id]);
    const token = await challenge(server, account);
    const locked = await verify(server, token, right);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(locked.errors?.[0].extensions?.retryAfter).toBeGreaterThan(RETRY_AFTER_SECONDS - 30);
    expect(locked.errors?.[0].extensions?.retryAfter).toBeLessThanOrEqual(RETRY_AFTER_SECONDS);
    const [after] = await server.running.services.dataSource.query('SELECT totp_last_step FROM users WHERE id = $1', [account.id]);
    expect(after.totp_last_step).toBe(before.totp_last_step);
    const [row] = await server.running.services.dataSource.query('SELECT attempts FROM two_factor_challenges WHERE token_hash = encode(sha256($1::bytea), $2)', [token, 'hex']);
    expect(row.attempts).toBe(0);
  });

  test('a locked second factor also refuses disableTwoFactor and regenerateRecoveryCodes', async () => {
    const account = await registerAccount(server);
    const { recoveryCodes, authenticator } = await enrol(server, account);
    await lockSecondFactor(account, authenticator);
    const disabled = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: recoveryCodes[0] }, account.accessToken);
    expect(codeOf(disabled)).toBe('RATE_LIMITED');
    const regenerated = await server.gql(operation('RegenerateRecoveryCodes'), { code: recoveryCodes[0] }, account.accessToken);
    expect(codeOf(regenerated)).toBe('RATE_LIMITED');
    const [row] = await server.running.services.dataSource.query('SELECT count(*)::int AS unused FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [account.id]);
    expect(row.unused).toBe(10);
  });

  test('wrong codes on disable and regenerate count too; a passing code resets the count', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const right = await authenticator.next();
    expect(codeOf(await server.gql(operation('RegenerateRecoveryCodes'), { code: authenticator.wrongCode(0) }, account.accessToken))).toBe('INVALID_TWO_FACTOR_CODE');
    expect(codeOf(await server.gql(operation('DisableTwoFactor'), { password: account.password, code: authenticator.wrongCode(1) }, account.accessToken))).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await verify(server, await challenge(server, account), right)).errors).toBeUndefined();
    // Reset by the success: two more failures stay under the lock of three.
    const next = await authenticator.next();
    for (let i = 0; i < LOCK_AFTER - 1; i++) {
      expect(codeOf(await verify(server, await challenge(server, account), authenticator.wrongCode(i)))).toBe('INVALID_TWO_FACTOR_CODE');
    }
    // Positive control: without the reset this would have been the fifth failure, far past the lock.
    expect(codeOf(await verify(server, await challenge(server, account), authenticator.wrongCode(LOCK_AFTER)))).toBe('INVALID_TWO_FACTOR_CODE');
    expect(codeOf(await verify(server, await challenge(server, account), next))).toBe('RATE_LIMITED');
  });

  test('another account is not affected by one account\'s lock', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    await lockSecondFactor(account, authenticator);
    expect((await auditTypes(server, account.id)).filter((t) => t === 'two_factor.locked')).toHaveLength(1);
    const other = await registerAccount(server);
    const { authenticator: otherApp } = await enrol(server, other);
    expect((await verify(server, await challenge(server, other), await otherApp.next())).errors).toBeUndefined();
  });
});

/**
 * The address's 2FA counter takes a point before every code and gives it back on a success (its
 * policy counts failures of a shared address). With the counters in PostgreSQL the point is taken
 * by the challenge read and given back by the statement that opens the session; with Redis by the
 * scripts around it. A success that kept its point would soon lock a whole office out.
 */
describe.each([
  ['PostgreSQL', {}],
  ['Redis', { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }],
])('the address 2FA throttle, counters in %s', (_store, storeEnv: Record<string, string>) => {
  const ADDRESS_FAILURES = 2;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      { ...storeEnv, IP_FAILURES_PER_WINDOW: String(ADDRESS_FAILURES), RATE_LIMIT_KEY_PREFIX: `t2ip-${randomBytes(6).toString('hex')}` },
      withClock(new TestClock()),
    );
  });
  afterAll(() => server.stop());

  test('successes give the address its points back; wrong codes keep them and then refuse the address', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    // More successes than the address has points: each must have handed its point back.
    for (let i = 0; i < ADDRESS_FAILURES + 2; i++) {
      expect((await verify(server, await challenge(server, account), await authenticator.next())).errors).toBeUndefined();
    }
    // Positive control: the address's points are in force, and failures keep them.
    for (let i = 0; i < ADDRESS_FAILURES; i++) {
      expect(codeOf(await verify(server, await challenge(server, account), authenticator.wrongCode(i)))).toBe('INVALID_TWO_FACTOR_CODE');
    }
    expect(codeOf(await verify(server, await challenge(server, account), await authenticator.next()))).toBe('RATE_LIMITED');
  });
});
