import { isolated } from '../abuse/abuse.helpers';
import { LOGIN, registerAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { auditTypes, enrol, verify } from '../two-factor/two-factor.helpers';
import { addPasskey, auditData, browser, OP, PASSKEY_ENV, passkeyLogin, passwordStep, secondFactor, sender, startLogin, startSecondFactor } from './passkeys.helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(PASSKEY_ENV));
});
afterAll(() => server?.stop());

describe('passwordless sign-in', () => {
  test('startPasskeyLogin needs no identifier and names no credential (the authenticator offers its discoverable ones); UV is required', async () => {
    const { options } = await startLogin(sender(server));
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
    expect(options.rpId).toBe(PASSKEY_ENV.WEBAUTHN_RP_ID);
  });

  test('a user-verified assertion opens a session for the passkey owner, audited as passkey.login and login.succeeded', async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    const passkey = await addPasskey(server, account, authenticator);
    const res = await passkeyLogin(sender(server), authenticator);
    expect(res.errors).toBeUndefined();
    expect(res.data?.finishPasskeyLogin).toMatchObject({ tokenType: 'Bearer', user: { id: account.id, email: account.email } });
    const me = await server.gql(operation('Me'), {}, res.data!.finishPasskeyLogin.accessToken);
    expect(me.data?.me.id).toBe(account.id);
    expect(await auditData(server, account.id, 'passkey.login')).toEqual([{ passkeyId: passkey.id }]);
    expect(await auditData(server, account.id, 'login.succeeded')).toContainEqual({ method: 'passkey' });
    const listed = await server.gql(OP.passkeys, {}, account.accessToken);
    expect(listed.data?.passkeys[0].lastUsedAt).not.toBeNull();
  });

  test('proves two factors: an account with 2FA on gets a full session, no TwoFactorChallenge', async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    // Positive control: the password alone gets the challenge.
    expect((await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } })).data?.login.__typename).toBe('TwoFactorChallenge');
    const res = await passkeyLogin(sender(server), authenticator);
    expect(res.data?.finishPasskeyLogin.accessToken).toEqual(expect.any(String));
    expect(res.data?.finishPasskeyLogin.user.twoFactorEnabled).toBe(true);
  });

  test('an assertion without user verification (presence only) is refused: it would be one factor', async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    expect(codeOf(await passkeyLogin(sender(server), authenticator, { uv: false }))).toBe('PASSKEY_REJECTED');
    expect(await auditData(server, account.id, 'passkey.rejected')).toEqual([expect.objectContaining({ reason: 'verification_failed', ceremony: 'sign_in' })]);
    // Positive control: the same passkey with UV.
    expect((await passkeyLogin(sender(server), authenticator)).data?.finishPasskeyLogin.user.id).toBe(account.id);
  });

  test('an account an administrator locked is refused after the assertion was verified (ACCOUNT_LOCKED)', async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    await server.running.services.dataSource.query('UPDATE users SET locked_at = now() WHERE id = $1', [account.id]);
    expect(codeOf(await passkeyLogin(sender(server), authenticator))).toBe('ACCOUNT_LOCKED');
    await server.running.services.dataSource.query('UPDATE users SET locked_at = NULL WHERE id = $1', [account.id]);
    expect((await passkeyLogin(sender(server), authenticator)).data?.finishPasskeyLogin.user.id).toBe(account.id);
  });
});

describe('a passkey as the second factor', () => {
  test('the challenge of a 2FA account with a passkey lists PASSKEY; without one it does not', async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    expect((await passwordStep(server, account)).methods).toEqual(['TOTP', 'RECOVERY_CODE']);
    await addPasskey(server, account, browser());
    expect((await passwordStep(server, account)).methods).toEqual(['TOTP', 'RECOVERY_CODE', 'PASSKEY']);
  });

  test("startTwoFactorPasskey names the account's own passkeys only; a user-present assertion (no UV) answers the challenge", async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    await addPasskey(server, await registerAccount(server), browser());
    const { challengeToken } = await passwordStep(server, account);
    const { options } = await startSecondFactor(server, challengeToken);
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([authenticator.credentials[0].id.toString('base64url')]);
    expect(options.userVerification).toBe('discouraged');
    const res = await server.gql(OP.verifySecondFactor, { challengeToken, challengeId: (await startSecondFactor(server, challengeToken)).challengeId, response: {} });
    expect(codeOf(res)).toBe('PASSKEY_REJECTED');
    const passed = await secondFactor(server, challengeToken, authenticator, { uv: false });
    expect(passed.errors).toBeUndefined();
    expect(passed.data?.verifyTwoFactorPasskey.user.id).toBe(account.id);
    expect(await auditData(server, account.id, 'login.succeeded')).toContainEqual({ secondFactor: 'passkey' });
    // The challenge is spent.
    expect(codeOf(await server.gql(OP.startSecondFactor, { challengeToken }))).toBe('INVALID_TOKEN');
  });

  test('a refused assertion is PASSKEY_REJECTED and counts as a wrong answer: 5 end the challenge', async () => {
    const account = await registerAccount(server);
    const { authenticator: app } = await enrol(server, account);
    const authenticator = browser();
    await addPasskey(server, account, authenticator);
    const { challengeToken } = await passwordStep(server, account);
    for (let i = 0; i < 5; i++) expect(codeOf(await secondFactor(server, challengeToken, authenticator, { origin: 'https://evil.example' }))).toBe('PASSKEY_REJECTED');
    expect(await auditTypes(server, account.id)).toEqual(expect.arrayContaining(['two_factor.challenge_failed', 'passkey.rejected']));
    // The challenge is dead for every method.
    expect(codeOf(await verify(server, challengeToken, await app.next()))).toBe('INVALID_TOKEN');
    // A new sign-in with the right passkey passes.
    const fresh = await passwordStep(server, account);
    expect((await secondFactor(server, fresh.challengeToken, authenticator)).data?.verifyTwoFactorPasskey.user.id).toBe(account.id);
  });

  test('passkey failures count on the same 2FA lock as wrong codes (TWO_FACTOR_LOCK_AFTER_FAILURES)', async () => {
    const locking = await startTestServer(isolated({ ...PASSKEY_ENV, TWO_FACTOR_LOCK_AFTER_FAILURES: '3' }));
    try {
      const account = await registerAccount(locking);
      const { authenticator: app } = await enrol(locking, account);
      const authenticator = browser();
      await addPasskey(locking, account, authenticator);
      const { challengeToken } = await passwordStep(locking, account);
      expect(codeOf(await verify(locking, challengeToken, '000000'))).toBe('INVALID_TWO_FACTOR_CODE');
      expect(codeOf(await secondFactor(locking, challengeToken, authenticator, { rpId: 'evil.example' }))).toBe('PASSKEY_REJECTED');
      expect(codeOf(await secondFactor(locking, challengeToken, authenticator, { rpId: 'evil.example' }))).toBe('PASSKEY_REJECTED');
      // Locked now: even the right passkey (and the right code) is refused until the lock ends.
      const right = await secondFactor(locking, challengeToken, authenticator);
      expect(codeOf(right)).toBe('RATE_LIMITED');
      expect(right.errors?.[0].extensions?.retryAfter).toBeGreaterThan(0);
      expect(codeOf(await verify(locking, challengeToken, await app.next()))).toBe('RATE_LIMITED');
      expect(await auditTypes(locking, account.id)).toContain('two_factor.locked');
    } finally {
      await locking.stop();
    }
  });

  test('startTwoFactorPasskey with an unknown challenge token is INVALID_TOKEN; for an account without passkey, PASSKEY_REJECTED', async () => {
    expect(codeOf(await server.gql(OP.startSecondFactor, { challengeToken: 'not-a-challenge' }))).toBe('INVALID_TOKEN');
    const account = await registerAccount(server);
    await enrol(server, account);
    const { challengeToken } = await passwordStep(server, account);
    expect(codeOf(await server.gql(OP.startSecondFactor, { challengeToken }))).toBe('PASSKEY_REJECTED');
  });
});
