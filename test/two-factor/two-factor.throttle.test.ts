import { randomBytes } from 'node:crypto';
import type { Throttle } from '../../src/abuse/throttle';
import { RateLimitedError } from '../../src/errors/app-errors';
import { TwoFactorService } from '../../src/two-factor/two-factor.service';
import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, challenge, enrol, operation, verify } from './two-factor.helpers';

/**
 * The account-wide 2FA throttle is its own component (src/abuse); these tests pin how the two-factor
 * flows drive its interface: checked before every code, told about every failure and success, and a
 * lock it reports is audited. A throttle that locks after LOCK_AFTER failures stands in for it.
 */
const LOCK_AFTER = 3;
const RETRY_AFTER_SECONDS = 900;

const wrongCode = (right: string): string => (right === '000000' ? '999999' : '000000');

class LockingThrottle implements Throttle {
  readonly failures = new Map<string, number>();
  readonly successes: string[] = [];
  readonly checked: string[] = [];

  async beforeLogin(): Promise<void> {}
  async loginFailed(): Promise<{ locked: boolean }> {
    return { locked: false };
  }
  async loginSucceeded(): Promise<void> {}
  async beforeRegister(): Promise<void> {}
  async close(): Promise<void> {}

  async beforeTwoFactor(userId: string): Promise<void> {
    this.checked.push(userId);
    if ((this.failures.get(userId) ?? 0) >= LOCK_AFTER) throw new RateLimitedError(RETRY_AFTER_SECONDS);
  }
  async twoFactorFailed(userId: string): Promise<{ locked: boolean }> {
    const count = (this.failures.get(userId) ?? 0) + 1;
    this.failures.set(userId, count);
    return { locked: count === LOCK_AFTER };
  }
  async twoFactorSucceeded(userId: string): Promise<void> {
    this.successes.push(userId);
    this.failures.delete(userId);
  }
}

describe('with a stand-in throttle (how the flows drive the interface)', () => {
  let server: TestServer;
  let throttle: LockingThrottle;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_KEY_PREFIX: `t2fa-${randomBytes(6).toString('hex')}` });
    throttle = new LockingThrottle();
    // The same wiring as createServices/registerFeatures, with the stand-in throttle.
    const services = server.running.services;
    services.twoFactor = new TwoFactorService(services.dataSource, services.sql, services.encryptor, services.auth, services.audit, throttle, {
      issuer: services.config.twoFactorIssuer,
    });
    services.auth.useChallengeIssuer(services.twoFactor);
  });
  afterAll(() => server.stop());

  test('every wrong code counts toward the account 2FA throttle, across challenges, and the lock is audited', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const right = await authenticator.next();
    for (let i = 0; i < LOCK_AFTER; i++) {
      // A new challenge each time: the per-challenge limit is not what stops this guesser.
      expect(codeOf(await verify(server, await challenge(server, account), wrongCode(right)))).toBe('INVALID_TWO_FACTOR_CODE');
    }
    expect(throttle.failures.get(account.id)).toBe(LOCK_AFTER);
    const types = await auditTypes(server, account.id);
    expect(types.filter((t) => t === 'two_factor.challenge_failed')).toHaveLength(LOCK_AFTER);
    expect(types.filter((t) => t === 'two_factor.locked')).toHaveLength(1);

    // Locked: even the right code is refused before it is looked at, and is not used up.
    const [before] = await server.running.services.dataSource.query('SELECT totp_last_step FROM users WHERE id = $1', [account.id]);
    const token = await challenge(server, account);
    const locked = await verify(server, token, right);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(locked.errors?.[0].extensions?.retryAfter).toBe(RETRY_AFTER_SECONDS);
    const [after] = await server.running.services.dataSource.query('SELECT totp_last_step FROM users WHERE id = $1', [account.id]);
    expect(after.totp_last_step).toBe(before.totp_last_step);
    const [row] = await server.running.services.dataSource.query('SELECT attempts FROM two_factor_challenges WHERE token_hash = encode(sha256($1::bytea), $2)', [token, 'hex']);
    expect(row.attempts).toBe(0);
  });

  test('a locked second factor also refuses disableTwoFactor and regenerateRecoveryCodes', async () => {
    const account = await registerAccount(server);
    const { recoveryCodes } = await enrol(server, account);
    throttle.failures.set(account.id, LOCK_AFTER);
    const disabled = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: recoveryCodes[0] }, account.accessToken);
    expect(codeOf(disabled)).toBe('RATE_LIMITED');
    const regenerated = await server.gql(operation('RegenerateRecoveryCodes'), { code: recoveryCodes[0] }, account.accessToken);
    expect(codeOf(regenerated)).toBe('RATE_LIMITED');
    const [row] = await server.running.services.dataSource.query('SELECT count(*)::int AS unused FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [account.id]);
    expect(row.unused).toBe(10);
  });

  test('wrong codes on confirm, disable and regenerate count too; a passing code tells the throttle', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    expect(throttle.successes).toContain(account.id); // the confirmation
    const right = await authenticator.next();
    await server.gql(operation('RegenerateRecoveryCodes'), { code: wrongCode(right) }, account.accessToken);
    await server.gql(operation('DisableTwoFactor'), { password: account.password, code: wrongCode(right) }, account.accessToken);
    expect(throttle.failures.get(account.id)).toBe(2);

    const res = await verify(server, await challenge(server, account), right);
    expect(res.errors).toBeUndefined();
    expect(throttle.failures.has(account.id)).toBe(false);
    expect(throttle.checked.filter((id) => id === account.id).length).toBeGreaterThanOrEqual(4);
  });
});

describe("with the service's own throttle", () => {
  const LOCK_AT = 3;
  let real: TestServer;
  beforeAll(async () => {
    real = await startTestServer({
      TWO_FACTOR_LOCK_AFTER_FAILURES: String(LOCK_AT),
      RATE_LIMIT_KEY_PREFIX: `t2fa-${randomBytes(6).toString('hex')}`,
    });
  });
  afterAll(() => real.stop());

  test('locks the second factor of an account after too many wrong codes across challenges (RATE_LIMITED, audited)', async () => {
    const account = await registerAccount(real);
    const { authenticator } = await enrol(real, account);
    const right = await authenticator.next();
    for (let i = 0; i < LOCK_AT; i++) {
      expect(codeOf(await verify(real, await challenge(real, account), wrongCode(right)))).toBe('INVALID_TWO_FACTOR_CODE');
    }
    const locked = await verify(real, await challenge(real, account), right);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(locked.errors?.[0].extensions?.retryAfter).toEqual(expect.any(Number));
    expect((await auditTypes(real, account.id)).filter((t) => t === 'two_factor.locked')).toHaveLength(1);

    // Another account is not affected.
    const other = await registerAccount(real);
    const { authenticator: otherApp } = await enrol(real, other);
    expect((await verify(real, await challenge(real, other), await otherApp.next())).errors).toBeUndefined();
  });
});
