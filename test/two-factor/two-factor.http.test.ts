import { randomBytes } from 'node:crypto';
import { URI } from 'otpauth';
import { Clock } from '../../src/app/clock';
import { base32Decode } from '../../src/two-factor/totp';
import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { operation } from '../support/operations';
import { TestClock, withClock } from '../support/test-clock';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { Authenticator, challenge, clockOf, enable, enrol, TOTP_PERIOD_MS, verify, type TwoFactorSetupResult } from './two-factor.helpers';

const ME = '{ me { id twoFactorEnabled } }';
const SESSIONS = '{ sessions { id current } }';
const RECOVERY_CODE_SHAPE = /^[0-9abcdefghjkmnpqrstvwxyz]{5}-[0-9abcdefghjkmnpqrstvwxyz]{5}$/;

/**
 * The server's TOTP checks and every code computed here read this clock: no test waits for a step
 * or can land on a step boundary. The last describe keeps one server on the real clock.
 */
const clock = new TestClock();
let server: TestServer;
beforeAll(async () => {
  // Counters of their own, so other suites' failures from 127.0.0.1 never throttle these tests.
  server = await startTestServer({ TWO_FACTOR_ISSUER: 'Bouncer Test', RATE_LIMIT_KEY_PREFIX: `t2fa-${randomBytes(6).toString('hex')}` }, withClock(clock));
});
afterAll(() => server.stop());

const db = <T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> => server.running.services.dataSource.query(text, values);

async function twoFactorEnabled(account: TestAccount): Promise<boolean> {
  const res = await server.gql(ME, {}, account.accessToken);
  return res.data?.me.twoFactorEnabled;
}

describe('enrolment', () => {
  test('enableTwoFactor returns a 160-bit base32 secret, its otpauth URI and a QR code data URL', async () => {
    const account = await registerAccount(server);
    const res = await enable(server, account);
    expect(res.errors).toBeUndefined();
    const setup = res.data!.enableTwoFactor as TwoFactorSetupResult;

    expect(setup.secret).toMatch(/^[A-Z2-7]+$/);
    expect(base32Decode(setup.secret).length).toBeGreaterThanOrEqual(20);
    expect(setup.otpauthUrl.startsWith(`otpauth://totp/Bouncer%20Test:${encodeURIComponent(account.email)}?secret=${setup.secret}&`)).toBe(true);
    // Read back by another implementation, as an authenticator app would.
    const parsed = URI.parse(setup.otpauthUrl);
    expect(parsed).toMatchObject({ issuer: 'Bouncer Test', label: account.email, algorithm: 'SHA1', digits: 6, period: 30 });
    expect(parsed.secret.base32).toBe(setup.secret);
    expect(setup.qrCodeDataUrl).toMatch(/^data:image\/svg\+xml;base64,[A-Za-z0-9+/]+=*$/);
    const svg = Buffer.from(setup.qrCodeDataUrl.split(',')[1], 'base64').toString('utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<path');

    // Pending, not on; stored encrypted and bound to this account.
    expect(await twoFactorEnabled(account)).toBe(false);
    const [row] = await db<{ totp_pending_secret_enc: string; totp_secret_enc: string | null }>(
      'SELECT totp_pending_secret_enc, totp_secret_enc FROM users WHERE id = $1',
      [account.id],
    );
    expect(row.totp_secret_enc).toBeNull();
    expect(row.totp_pending_secret_enc).not.toContain(setup.secret);
    const encryptor = server.running.services.encryptor;
    expect(encryptor.decrypt(row.totp_pending_secret_enc, account.id)).toBe(setup.secret);
    expect(() => encryptor.decrypt(row.totp_pending_secret_enc, '00000000-0000-0000-0000-000000000000')).toThrow();
  });

  test('every enrolment gets a different secret', async () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const account = await registerAccount(server);
      secrets.add((await enable(server, account)).data!.enableTwoFactor.secret);
    }
    expect(secrets.size).toBe(3);
  });

  test('enableTwoFactor with a wrong password is refused (INVALID_CREDENTIALS) and stores nothing', async () => {
    const account = await registerAccount(server);
    const res = await enable(server, account, `${account.password}x`);
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
    expect(res.data).toBeNull();
    const [row] = await db<{ totp_pending_secret_enc: string | null }>('SELECT totp_pending_secret_enc FROM users WHERE id = $1', [account.id]);
    expect(row.totp_pending_secret_enc).toBeNull();
  });

  test('the guarded 2FA mutations refuse callers without an access token (UNAUTHENTICATED)', async () => {
    expect(codeOf(await server.gql(operation('EnableTwoFactor'), { password: 'whatever-password' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(operation('ConfirmTwoFactor'), { code: '123456' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(operation('DisableTwoFactor'), { password: 'whatever-password', code: '123456' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(operation('RegenerateRecoveryCodes'), { code: '123456' }))).toBe('UNAUTHENTICATED');
  });

  test('a second enableTwoFactor before confirmation replaces the pending secret', async () => {
    const account = await registerAccount(server);
    const first = (await enable(server, account)).data!.enableTwoFactor.secret as string;
    const second = (await enable(server, account)).data!.enableTwoFactor.secret as string;
    expect(second).not.toBe(first);

    const stale = await server.gql(operation('ConfirmTwoFactor'), { code: new Authenticator(first, clock).code() }, account.accessToken);
    expect(codeOf(stale)).toBe('INVALID_TWO_FACTOR_CODE');
    const res = await server.gql(operation('ConfirmTwoFactor'), { code: new Authenticator(second, clock).code() }, account.accessToken);
    expect(res.errors).toBeUndefined();
    expect(await twoFactorEnabled(account)).toBe(true);
  });

  test('confirmTwoFactor with a wrong code is refused and leaves 2FA off', async () => {
    const account = await registerAccount(server);
    const app = new Authenticator((await enable(server, account)).data!.enableTwoFactor.secret as string, clock);
    const res = await server.gql(operation('ConfirmTwoFactor'), { code: app.wrongCode() }, account.accessToken);
    expect(codeOf(res)).toBe('INVALID_TWO_FACTOR_CODE');
    expect(await twoFactorEnabled(account)).toBe(false);
    expect(await auditTypes(server, account.id)).toContain('two_factor.challenge_failed');
    // Positive control: the pending enrolment is intact, and a right code confirms it.
    expect((await server.gql(operation('ConfirmTwoFactor'), { code: await app.next() }, account.accessToken)).errors).toBeUndefined();
    expect(await twoFactorEnabled(account)).toBe(true);
  });

  test('confirmTwoFactor without a pending enrolment gives TWO_FACTOR_NOT_ENABLED', async () => {
    const account = await registerAccount(server);
    const res = await server.gql(operation('ConfirmTwoFactor'), { code: '123456' }, account.accessToken);
    expect(codeOf(res)).toBe('TWO_FACTOR_NOT_ENABLED');
  });

  test('confirmTwoFactor turns 2FA on and returns 10 distinct recovery codes that are stored only hashed', async () => {
    const account = await registerAccount(server);
    const { recoveryCodes, setup } = await enrol(server, account);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(RECOVERY_CODE_SHAPE);
    expect(await twoFactorEnabled(account)).toBe(true);

    const stored = await db<{ code_hash: string; used_at: Date | null }>('SELECT code_hash, used_at FROM recovery_codes WHERE user_id = $1', [account.id]);
    expect(stored).toHaveLength(10);
    for (const row of stored) {
      expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.used_at).toBeNull();
      for (const code of recoveryCodes) {
        expect(row.code_hash).not.toContain(code.replace('-', ''));
      }
    }
    const [user] = await db<{ totp_secret_enc: string; totp_pending_secret_enc: string | null; totp_last_step: string }>(
      'SELECT totp_secret_enc, totp_pending_secret_enc, totp_last_step FROM users WHERE id = $1',
      [account.id],
    );
    expect(user.totp_pending_secret_enc).toBeNull();
    expect(user.totp_secret_enc).not.toContain(setup.secret);
    expect(user.totp_last_step).not.toBeNull(); // the confirming step counts as used
    expect(await auditTypes(server, account.id)).toContain('two_factor.enabled');
  });

  test('the secret is never returned after confirmation: enableTwoFactor gives TWO_FACTOR_ALREADY_ENABLED', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const again = await enable(server, account);
    expect(codeOf(again)).toBe('TWO_FACTOR_ALREADY_ENABLED');
    expect(again.data).toBeNull();
    const confirmAgain = await server.gql(operation('ConfirmTwoFactor'), { code: await authenticator.next() }, account.accessToken);
    expect(codeOf(confirmAgain)).toBe('TWO_FACTOR_ALREADY_ENABLED');
    const [row] = await db<{ totp_pending_secret_enc: string | null }>('SELECT totp_pending_secret_enc FROM users WHERE id = $1', [account.id]);
    expect(row.totp_pending_secret_enc).toBeNull();
  });
});

describe('login with the second factor', () => {
  test('end to end over HTTP: enrol, confirm, log in with a code computed by otpauth', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);

    const login = await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } });
    expect(login.data?.login).toEqual({ __typename: 'TwoFactorChallenge', challengeToken: expect.any(String), expiresIn: 300, methods: ['TOTP', 'RECOVERY_CODE'] });
    const challengeToken = login.data!.login.challengeToken as string;
    expect(challengeToken.length).toBeGreaterThanOrEqual(43);

    const res = await verify(server, challengeToken, await authenticator.next());
    expect(res.errors).toBeUndefined();
    const payload = res.data!.verifyTwoFactor;
    expect(payload).toMatchObject({ tokenType: 'Bearer', user: { id: account.id, email: account.email, twoFactorEnabled: true } });
    const me = await server.gql(ME, {}, payload.accessToken);
    expect(me.data?.me).toEqual({ id: account.id, twoFactorEnabled: true });
    const refreshed = await server.gql('mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken } }', { t: payload.refreshToken });
    expect(refreshed.errors).toBeUndefined();

    // Stored only as a hash, and consumed.
    const rows = await db<{ token_hash: string; consumed_at: Date | null; attempts: number }>(
      'SELECT token_hash, consumed_at, attempts FROM two_factor_challenges WHERE user_id = $1',
      [account.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toContain(challengeToken);
    expect(rows[0].consumed_at).not.toBeNull();
  });

  test('accepts codes one step either side of now (clock drift)', async () => {
    const account = await registerAccount(server);
    const app = new Authenticator((await enable(server, account)).data!.enableTwoFactor.secret as string, clock);
    const confirmed = await server.gql(operation('ConfirmTwoFactor'), { code: app.code(-1) }, account.accessToken);
    expect(confirmed.errors).toBeUndefined();
    const token = await challenge(server, account);
    expect((await verify(server, token, app.code(1))).errors).toBeUndefined();
  });

  test("a code passes one step after its own and not two: the server's window moves with the injected clock", async () => {
    // The codes below must be of the server's clock, or this would pass on a replay refusal.
    expect(clockOf(server)).toBe(clock);
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    // Neither step is used: on a TestClock the confirmation took the oldest one of the window.
    const [thisStep, nextStep] = [authenticator.code(0), authenticator.code(1)];
    clock.advance(2 * TOTP_PERIOD_MS);
    expect(codeOf(await verify(server, await challenge(server, account), thisStep))).toBe('INVALID_TWO_FACTOR_CODE');
    // Positive control: the code of the step after, now one step old, still passes.
    expect((await verify(server, await challenge(server, account), nextStep)).errors).toBeUndefined();
    authenticator.used(-1);
  });

  test('a challenge token presented as a Bearer access token is refused', async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    const token = await challenge(server, account);
    for (const query of [ME, SESSIONS]) {
      const res = await server.gql(query, {}, token);
      expect(codeOf(res)).toBe('UNAUTHENTICATED');
      expect(res.data).toBeNull();
    }
    const res = await server.gql(operation('RegenerateRecoveryCodes'), { code: '123456' }, token);
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });

  test('no session exists until the second factor passes: sessions never lists a half-finished login', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    await challenge(server, account);

    const during = await server.gql(SESSIONS, {}, account.accessToken);
    expect(during.data?.sessions).toHaveLength(1); // the registration's own session
    expect(await db('SELECT id FROM sessions WHERE user_id = $1', [account.id])).toHaveLength(1);
    expect(await db('SELECT rt.id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1', [account.id])).toHaveLength(1);

    await verify(server, token, await authenticator.next());
    const after = await server.gql(SESSIONS, {}, account.accessToken);
    expect(after.data?.sessions).toHaveLength(2);
  });

  test('rejects a replayed TOTP code', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const code = await authenticator.next();
    expect((await verify(server, await challenge(server, account), code)).errors).toBeUndefined();

    const replay = await verify(server, await challenge(server, account), code);
    expect(codeOf(replay)).toBe('INVALID_TWO_FACTOR_CODE');
    expect(replay.data).toBeNull();
  });

  test('racing verifyTwoFactor requests with one code: exactly one succeeds', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const tokens = await Promise.all(Array.from({ length: 6 }, () => challenge(server, account)));
    const code = await authenticator.next();

    const results = await Promise.all(tokens.map((token) => verify(server, token, code)));
    const succeeded = results.filter((r) => r.data?.verifyTwoFactor);
    expect(succeeded).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'INVALID_TWO_FACTOR_CODE')).toHaveLength(5);
    expect(await db('SELECT id FROM sessions WHERE user_id = $1', [account.id])).toHaveLength(2);
  });

  test('racing verifyTwoFactor requests on one challenge: exactly one session', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    const code = await authenticator.next();

    const results = await Promise.all(Array.from({ length: 4 }, () => verify(server, token, code)));
    expect(results.filter((r) => r.data?.verifyTwoFactor)).toHaveLength(1);
    const failures = results.filter((r) => !r.data?.verifyTwoFactor);
    expect(failures).toHaveLength(3);
    for (const failed of failures) {
      expect(['INVALID_TOKEN', 'INVALID_TWO_FACTOR_CODE']).toContain(codeOf(failed));
    }
    expect(await db('SELECT id FROM sessions WHERE user_id = $1', [account.id])).toHaveLength(2);
  });

  test('rejects a code two steps old, and one two steps ahead', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    const window = [-1, 0, 1].map((offset) => authenticator.code(offset));
    // A code outside the window with the digits of one inside would pass: leave such a one out.
    const outside = [-2, 2].map((offset) => authenticator.code(offset)).filter((code) => !window.includes(code));
    expect(outside.length).toBeGreaterThan(0); // both repeating a code of the window: about one chance in 10^11
    for (const code of outside) expect(codeOf(await verify(server, token, code))).toBe('INVALID_TWO_FACTOR_CODE');
    // Positive control: on the same challenge, a code inside the window passes.
    expect((await verify(server, token, await authenticator.next())).errors).toBeUndefined();
  });

  test("rejects a code from another account's secret", async () => {
    const victim = await registerAccount(server);
    const attacker = await registerAccount(server);
    const { authenticator: victimApp } = await enrol(server, victim);
    const { authenticator: attackerApp } = await enrol(server, attacker);
    const token = await challenge(server, victim);
    // The attacker's code must not be one of the victim's by chance (3 in a million): move on to a step where it is not.
    while ([-1, 0, 1].some((offset) => victimApp.code(offset) === attackerApp.code())) clock.advance(TOTP_PERIOD_MS);
    expect(codeOf(await verify(server, token, attackerApp.code()))).toBe('INVALID_TWO_FACTOR_CODE');
    // Positive control: the victim's own code passes on the same challenge.
    expect((await verify(server, token, await victimApp.next())).errors).toBeUndefined();
  });

  test('brute force of a challenge: after 5 wrong codes the 6th attempt is refused even with the right code', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    const right = await authenticator.next();
    for (let i = 0; i < 5; i++) expect(codeOf(await verify(server, token, authenticator.wrongCode(i)))).toBe('INVALID_TWO_FACTOR_CODE');
    const sixth = await verify(server, token, right);
    expect(codeOf(sixth)).toBe('INVALID_TOKEN');
    expect(await db('SELECT id FROM sessions WHERE user_id = $1', [account.id])).toHaveLength(1);
    const [row] = await db<{ attempts: number; consumed_at: Date | null }>('SELECT attempts, consumed_at FROM two_factor_challenges WHERE user_id = $1', [account.id]);
    expect(row).toEqual({ attempts: 5, consumed_at: null });
    expect((await auditTypes(server, account.id)).filter((t) => t === 'two_factor.challenge_failed')).toHaveLength(5);

    // The refused sixth attempt did not burn the code: a fresh login still works with it.
    expect((await verify(server, await challenge(server, account), right)).errors).toBeUndefined();
  });

  test('parallel guesses on one challenge never get more than 5 tries', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    const guesses = Array.from({ length: 12 }, (_, i) => authenticator.wrongCode(i));
    const results = await Promise.all(guesses.map((code) => verify(server, token, code)));
    expect(results.filter((r) => codeOf(r) === 'INVALID_TWO_FACTOR_CODE')).toHaveLength(5);
    // The rest were never checked: the challenge was dead, or the account's 2FA budget (10) was spent first.
    expect(results.filter((r) => ['INVALID_TOKEN', 'RATE_LIMITED'].includes(codeOf(r)!))).toHaveLength(guesses.length - 5);
    const [row] = await db<{ attempts: number }>('SELECT attempts FROM two_factor_challenges WHERE user_id = $1', [account.id]);
    expect(row.attempts).toBe(5);
  });

  test('unknown, oversized, expired and already used challenge tokens give INVALID_TOKEN', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    expect(codeOf(await verify(server, 'not-a-challenge', '123456'))).toBe('INVALID_TOKEN');
    expect(codeOf(await verify(server, '', '123456'))).toBe('INVALID_TOKEN');
    expect(codeOf(await verify(server, 'x'.repeat(10_000), '123456'))).toBe('INVALID_TOKEN');

    const expired = await challenge(server, account);
    await db(`UPDATE two_factor_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND consumed_at IS NULL`, [account.id]);
    expect(codeOf(await verify(server, expired, await authenticator.next()))).toBe('INVALID_TOKEN');

    const used = await challenge(server, account);
    expect((await verify(server, used, await authenticator.next())).errors).toBeUndefined();
    expect(codeOf(await verify(server, used, await authenticator.next()))).toBe('INVALID_TOKEN');
  });

  test('a challenge issued before a password change is void', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    const changed = await server.gql(
      'mutation C($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
      { c: account.password, n: `${account.password}-new` },
      account.accessToken,
    );
    expect(changed.errors).toBeUndefined();
    expect(codeOf(await verify(server, token, await authenticator.next()))).toBe('INVALID_TOKEN');
  });

  test('garbage codes are INVALID_TWO_FACTOR_CODE, never a server error', async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    const token = await challenge(server, account);
    for (const code of ['', '12 34', 'x'.repeat(10_000), "' OR 1=1 --"]) {
      const res = await verify(server, token, code);
      expect(res.status).toBe(200);
      expect(codeOf(res)).toBe('INVALID_TWO_FACTOR_CODE');
    }
  });

  test('a recovery code finishes a login once; reusing it is refused', async () => {
    const account = await registerAccount(server);
    const { recoveryCodes } = await enrol(server, account);
    // Typed back loosely (upper case, no hyphen), as people do from paper.
    const typed = recoveryCodes[0].replace('-', ' ').toUpperCase();
    const first = await verify(server, await challenge(server, account), typed);
    expect(first.errors).toBeUndefined();
    expect(first.data?.verifyTwoFactor.user.id).toBe(account.id);

    const reuse = await verify(server, await challenge(server, account), recoveryCodes[0]);
    expect(codeOf(reuse)).toBe('INVALID_TWO_FACTOR_CODE');
    const used = await db('SELECT id FROM recovery_codes WHERE user_id = $1 AND used_at IS NOT NULL', [account.id]);
    expect(used).toHaveLength(1);
    expect(await auditTypes(server, account.id)).toContain('two_factor.recovery_code_used');

    // The other codes still work.
    expect((await verify(server, await challenge(server, account), recoveryCodes[1])).errors).toBeUndefined();
  });

  test("recovery codes of another account do not work", async () => {
    const victim = await registerAccount(server);
    const attacker = await registerAccount(server);
    await enrol(server, victim);
    const { recoveryCodes } = await enrol(server, attacker);
    expect(codeOf(await verify(server, await challenge(server, victim), recoveryCodes[0]))).toBe('INVALID_TWO_FACTOR_CODE');
  });
});

describe('disable and regenerate', () => {
  test('disabling without the password is refused and 2FA stays on', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const res = await server.gql(operation('DisableTwoFactor'), { password: `${account.password}x`, code: await authenticator.next() }, account.accessToken);
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
    const empty = await server.gql(operation('DisableTwoFactor'), { password: '', code: await authenticator.next() }, account.accessToken);
    expect(codeOf(empty)).toBe('INVALID_CREDENTIALS');
    expect(await twoFactorEnabled(account)).toBe(true);
    expect(await auditTypes(server, account.id)).not.toContain('two_factor.disabled');
  });

  test('disabling with a wrong code is refused and 2FA stays on', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const res = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: authenticator.wrongCode() }, account.accessToken);
    expect(codeOf(res)).toBe('INVALID_TWO_FACTOR_CODE');
    expect(await twoFactorEnabled(account)).toBe(true);
  });

  test('disableTwoFactor with the password and a code clears the secret and the recovery codes', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const res = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: await authenticator.next() }, account.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data?.disableTwoFactor).toBe(true);
    expect(await twoFactorEnabled(account)).toBe(false);
    const [row] = await db('SELECT two_factor_enabled, totp_secret_enc, totp_pending_secret_enc FROM users WHERE id = $1', [account.id]);
    expect(row).toEqual({ two_factor_enabled: false, totp_secret_enc: null, totp_pending_secret_enc: null });
    expect(await db('SELECT id FROM recovery_codes WHERE user_id = $1', [account.id])).toHaveLength(0);

    // Login is back to one step.
    const login = await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } });
    expect(login.data?.login.__typename).toBe('AuthPayload');

    const again = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: await authenticator.next() }, account.accessToken);
    expect(codeOf(again)).toBe('TWO_FACTOR_NOT_ENABLED');
    expect(codeOf(await server.gql(operation('RegenerateRecoveryCodes'), { code: '123456' }, account.accessToken))).toBe('TWO_FACTOR_NOT_ENABLED');

    // And 2FA can be enrolled again from scratch.
    await enrol(server, account);
    expect(await twoFactorEnabled(account)).toBe(true);
  });

  test('a challenge issued before 2FA was disabled is void', async () => {
    const account = await registerAccount(server);
    const { authenticator } = await enrol(server, account);
    const token = await challenge(server, account);
    await server.gql(operation('DisableTwoFactor'), { password: account.password, code: await authenticator.next() }, account.accessToken);
    expect(codeOf(await verify(server, token, '123456'))).toBe('INVALID_TOKEN');
  });

  test('disableTwoFactor accepts a recovery code (lost device)', async () => {
    const account = await registerAccount(server);
    const { recoveryCodes } = await enrol(server, account);
    const res = await server.gql(operation('DisableTwoFactor'), { password: account.password, code: recoveryCodes[3] }, account.accessToken);
    expect(res.data?.disableTwoFactor).toBe(true);
    expect(await twoFactorEnabled(account)).toBe(false);
  });

  test('regenerateRecoveryCodes retires every older code', async () => {
    const account = await registerAccount(server);
    const { authenticator, recoveryCodes: old } = await enrol(server, account);
    const res = await server.gql(operation('RegenerateRecoveryCodes'), { code: await authenticator.next() }, account.accessToken);
    expect(res.errors).toBeUndefined();
    const fresh = res.data!.regenerateRecoveryCodes.codes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => old.includes(c))).toHaveLength(0);
    expect(await db('SELECT id FROM recovery_codes WHERE user_id = $1', [account.id])).toHaveLength(10);

    expect(codeOf(await verify(server, await challenge(server, account), old[0]))).toBe('INVALID_TWO_FACTOR_CODE');
    expect((await verify(server, await challenge(server, account), fresh[0])).errors).toBeUndefined();
    expect(await auditTypes(server, account.id)).toContain('two_factor.recovery_codes_regenerated');
  });

  test('regenerateRecoveryCodes needs a valid code', async () => {
    const account = await registerAccount(server);
    const { authenticator, recoveryCodes } = await enrol(server, account);
    const res = await server.gql(operation('RegenerateRecoveryCodes'), { code: authenticator.wrongCode() }, account.accessToken);
    expect(codeOf(res)).toBe('INVALID_TWO_FACTOR_CODE');
    // Nothing was retired.
    expect((await verify(server, await challenge(server, account), recoveryCodes[0])).errors).toBeUndefined();
  });
});

describe('audit trail', () => {
  test('every 2FA step writes its audit event, and no event holds a secret or a code', async () => {
    const account = await registerAccount(server);
    const { authenticator, recoveryCodes, setup } = await enrol(server, account);
    const wrongFirst = await authenticator.next();
    const token = await challenge(server, account);
    await verify(server, token, authenticator.wrongCode());
    await verify(server, token, wrongFirst);
    await verify(server, await challenge(server, account), recoveryCodes[0]);
    const regenerated = await server.gql(operation('RegenerateRecoveryCodes'), { code: recoveryCodes[1] }, account.accessToken);
    const fresh = regenerated.data!.regenerateRecoveryCodes.codes as string[];
    await server.gql(operation('DisableTwoFactor'), { password: account.password, code: fresh[0] }, account.accessToken);

    expect(await auditTypes(server, account.id)).toEqual([
      'user.registered',
      'user.email_verification_sent',
      'two_factor.enabled',
      'login.two_factor_challenged',
      'two_factor.challenge_failed',
      'login.succeeded',
      'login.two_factor_challenged',
      'login.succeeded',
      'two_factor.recovery_code_used',
      'two_factor.recovery_code_used',
      'two_factor.recovery_codes_regenerated',
      'two_factor.recovery_code_used',
      'two_factor.disabled',
    ]);
    const rows = await db<{ type: string; data: Record<string, unknown>; session_id: string | null }>(
      'SELECT type, data, session_id FROM audit_events WHERE user_id = $1 ORDER BY id',
      [account.id],
    );
    const logins = rows.filter((r) => r.type === 'login.succeeded').map((r) => r.data.secondFactor);
    expect(logins).toEqual(['totp', 'recovery_code']);
    const dump = JSON.stringify(rows);
    for (const secretish of [setup.secret, wrongFirst, token, ...recoveryCodes, ...fresh]) expect(dump).not.toContain(secretish);
    // Changes made by a signed-in user name the session that made them.
    expect(rows.find((r) => r.type === 'two_factor.disabled')?.session_id).toEqual(expect.any(String));
  });
});

describe('on the real clock (the default wiring)', () => {
  let real: TestServer;
  beforeAll(async () => {
    real = await startTestServer({ RATE_LIMIT_KEY_PREFIX: `t2fa-${randomBytes(6).toString('hex')}` });
  });
  afterAll(() => real.stop());

  test('a server started without an override reads the real Clock, and codes computed now confirm and finish a login', async () => {
    expect(clockOf(real).constructor).toBe(Clock);
    const account = await registerAccount(real);
    // Confirmation takes a code of the current step, the login one of that step or the next: each
    // is inside the server's ±1 window wherever a step boundary falls, so nothing here waits.
    const { authenticator } = await enrol(real, account);
    const res = await verify(real, await challenge(real, account), await authenticator.next());
    expect(res.errors).toBeUndefined();
    expect(res.data?.verifyTwoFactor.user).toEqual({ id: account.id, email: account.email, twoFactorEnabled: true });
  });
});
