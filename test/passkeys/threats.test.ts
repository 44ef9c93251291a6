import { isolated } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { enrol } from '../two-factor/two-factor.helpers';
import {
  addPasskey,
  auditData,
  browser,
  OP,
  PASSKEY_ENV,
  passkeyLogin,
  passwordStep,
  secondFactor,
  sender,
  startLogin,
  startRegistration,
  startSecondFactor,
} from './passkeys.helpers';
import { SoftAuthenticator } from './soft-authenticator';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(PASSKEY_ENV));
});
afterAll(() => server?.stop());

const send = () => sender(server);
const rejectionsOf = async (userId: string | null) => (await auditData(server, userId, 'passkey.rejected')).map((d) => d.reason);

/** An account with a passkey (and, with twoFactor, TOTP on). */
async function withPasskey(options: { twoFactor?: boolean; authenticator?: SoftAuthenticator } = {}): Promise<{ account: TestAccount; authenticator: SoftAuthenticator }> {
  const account = await registerAccount(server);
  if (options.twoFactor) await enrol(server, account);
  const authenticator = options.authenticator ?? browser();
  await addPasskey(server, account, authenticator);
  return { account, authenticator };
}

describe('phishing: a ceremony relayed from another site', () => {
  test('an assertion made on a look-alike origin is refused (sign-in and second factor)', async () => {
    const { account, authenticator } = await withPasskey({ twoFactor: true });
    expect(codeOf(await passkeyLogin(send(), authenticator, { origin: 'https://bouncer.test.evil.example' }))).toBe('PASSKEY_REJECTED');
    const { challengeToken } = await passwordStep(server, account);
    expect(codeOf(await secondFactor(server, challengeToken, authenticator, { origin: 'http://bouncer.test' }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(account.id)).toEqual(['verification_failed', 'verification_failed']);
    // Positive control: the real origin.
    expect((await passkeyLogin(send(), authenticator)).data?.finishPasskeyLogin.user.id).toBe(account.id);
  });

  test('a registration made on another origin is refused and stores nothing', async () => {
    const account = await registerAccount(server);
    const { challengeId, options } = await startRegistration(server, account);
    const res = await server.gql(OP.finishRegistration, { challengeId, response: browser().register(options, { origin: 'https://evil.example' }) }, account.accessToken);
    expect(codeOf(res)).toBe('PASSKEY_REJECTED');
    expect((await server.gql(OP.passkeys, {}, account.accessToken)).data?.passkeys).toEqual([]);
    expect(await rejectionsOf(account.id)).toEqual(['verification_failed']);
  });

  test('a credential scoped to another RP ID (another site) is refused, at registration and sign-in', async () => {
    const account = await registerAccount(server);
    const { challengeId, options } = await startRegistration(server, account);
    const response = browser().register(options, { rpId: 'evil.example' });
    expect(codeOf(await server.gql(OP.finishRegistration, { challengeId, response }, account.accessToken))).toBe('PASSKEY_REJECTED');
    const { authenticator } = await withPasskey();
    expect(codeOf(await passkeyLogin(send(), authenticator, { rpId: 'evil.example' }))).toBe('PASSKEY_REJECTED');
  });

  test('a registration response passed off as an assertion (wrong ceremony type) is refused', async () => {
    const { authenticator } = await withPasskey();
    expect(codeOf(await passkeyLogin(send(), authenticator, { type: 'webauthn.create' }))).toBe('PASSKEY_REJECTED');
  });
});

describe('replayed and misdirected challenges', () => {
  test('a replayed challenge: the same ceremony and response a second time is refused', async () => {
    const { account, authenticator } = await withPasskey({ authenticator: browser({ counterStep: 0 }) });
    const { challengeId, options } = await startLogin(send());
    const response = authenticator.assert(options);
    expect((await server.gql(OP.finishLogin, { challengeId, response })).data?.finishPasskeyLogin.user.id).toBe(account.id);
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId, response }))).toBe('PASSKEY_REJECTED');
    // The old response against a new ceremony: its challenge is not the new one.
    const fresh = await startLogin(send());
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId: fresh.challengeId, response }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(account.id)).toEqual(['verification_failed']);
    expect(await rejectionsOf(null)).toContain('unknown_challenge');
  });

  test('a refused attempt spends the ceremony too (single-use whatever the outcome)', async () => {
    const { account, authenticator } = await withPasskey();
    const { challengeId, options } = await startLogin(send());
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId, response: authenticator.assert(options, { uv: false }) }))).toBe('PASSKEY_REJECTED');
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId, response: authenticator.assert(options) }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(account.id)).toEqual(['verification_failed']);
  });

  test('an expired challenge (older than 5 minutes) is refused', async () => {
    const { authenticator } = await withPasskey();
    const { challengeId, options } = await startLogin(send());
    await server.running.services.dataSource.query(`UPDATE passkey_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [challengeId]);
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId, response: authenticator.assert(options) }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(null)).toContain('challenge_expired');
  });

  test('a challenge of another kind is refused: registration for sign-in, sign-in for a second factor, second factor for sign-in', async () => {
    const { account, authenticator } = await withPasskey({ twoFactor: true });
    const registration = await startRegistration(server, account);
    const asLogin = authenticator.assert({ rpId: PASSKEY_ENV.WEBAUTHN_RP_ID, challenge: registration.options.challenge });
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId: registration.challengeId, response: asLogin }))).toBe('PASSKEY_REJECTED');

    const { challengeToken } = await passwordStep(server, account);
    const login = await startLogin(send());
    const res = await server.gql(OP.verifySecondFactor, { challengeToken, challengeId: login.challengeId, response: authenticator.assert(login.options) });
    expect(codeOf(res)).toBe('PASSKEY_REJECTED');

    const second = await startSecondFactor(server, challengeToken);
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId: second.challengeId, response: authenticator.assert(second.options) }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(null)).toEqual(expect.arrayContaining(['challenge_mismatch']));
    expect(await rejectionsOf(account.id)).toContain('challenge_mismatch');
  });

  test("a challenge of another user is refused: A's registration ceremony finished by B, a second-factor ceremony of another sign-in", async () => {
    const a = await registerAccount(server);
    const b = await registerAccount(server);
    const { challengeId, options } = await startRegistration(server, a);
    const res = await server.gql(OP.finishRegistration, { challengeId, response: browser().register(options) }, b.accessToken);
    expect(codeOf(res)).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(b.id)).toEqual(['challenge_mismatch']);
    expect((await server.gql(OP.passkeys, {}, b.accessToken)).data?.passkeys).toEqual([]);

    // A second-factor ceremony is bound to the sign-in (challenge token) it was started for.
    const { account, authenticator } = await withPasskey({ twoFactor: true });
    const first = await passwordStep(server, account);
    const second = await passwordStep(server, account);
    const ceremony = await startSecondFactor(server, first.challengeToken);
    const misdirected = await server.gql(OP.verifySecondFactor, { challengeToken: second.challengeToken, challengeId: ceremony.challengeId, response: authenticator.assert(ceremony.options) });
    expect(codeOf(misdirected)).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(account.id)).toEqual(['challenge_mismatch']);
  });
});

describe('foreign and unknown credentials', () => {
  test("a second factor answered with another account's passkey is refused", async () => {
    const { account } = await withPasskey({ twoFactor: true });
    const { authenticator: foreign } = await withPasskey();
    const { challengeToken } = await passwordStep(server, account);
    const { challengeId, options } = await startSecondFactor(server, challengeToken);
    const res = await server.gql(OP.verifySecondFactor, { challengeToken, challengeId, response: foreign.assert({ ...options, allowCredentials: [] }) });
    expect(codeOf(res)).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(account.id)).toEqual(['foreign_credential']);
  });

  test("an assertion claiming another account's user handle is refused", async () => {
    const { authenticator } = await withPasskey();
    const { account: victim } = await withPasskey();
    const handle = (await server.running.services.dataSource.query('SELECT handle FROM webauthn_user_handles WHERE user_id = $1', [victim.id]))[0].handle as Buffer;
    expect(codeOf(await passkeyLogin(send(), authenticator, { userHandle: handle.toString('base64url') }))).toBe('PASSKEY_REJECTED');
    expect(codeOf(await passkeyLogin(send(), authenticator, { userHandle: null }))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(victim.id)).toEqual([]);
  });

  test('a credential that was never registered, or was removed, is refused', async () => {
    const stranger = browser();
    stranger.register({ rp: { id: PASSKEY_ENV.WEBAUTHN_RP_ID }, user: { id: 'AAAA' }, challenge: 'AAAA' });
    expect(codeOf(await passkeyLogin(send(), stranger))).toBe('PASSKEY_REJECTED');

    const { account, authenticator } = await withPasskey();
    const [passkey] = (await server.gql(OP.passkeys, {}, account.accessToken)).data!.passkeys;
    await server.gql(OP.remove, { id: passkey.id, password: account.password }, account.accessToken);
    expect(codeOf(await passkeyLogin(send(), authenticator))).toBe('PASSKEY_REJECTED');
    expect(await rejectionsOf(null)).toContain('unknown_credential');
  });

  test('a forged signature (authenticator data altered after signing) is refused', async () => {
    const { authenticator } = await withPasskey();
    const { challengeId, options } = await startLogin(send());
    const response = authenticator.assert(options);
    const data = Buffer.from(response.response.authenticatorData, 'base64url');
    data.writeUInt32BE(data.readUInt32BE(33) + 1000, 33); // a different counter than the one signed
    response.response.authenticatorData = data.toString('base64url');
    expect(codeOf(await server.gql(OP.finishLogin, { challengeId, response }))).toBe('PASSKEY_REJECTED');
  });
});

describe('cloned authenticator', () => {
  test('a counter that does not grow is refused and audited as a possible clone; the original keeps working', async () => {
    const { account, authenticator } = await withPasskey();
    const clone = authenticator.clone(authenticator.credentials[0]);
    for (let i = 0; i < 3; i++) expect((await passkeyLogin(send(), authenticator)).errors).toBeUndefined();
    // The copy's counter is behind the original's (1 <= 3).
    expect(codeOf(await passkeyLogin(send(), clone))).toBe('PASSKEY_REJECTED');
    const [audit] = await auditData(server, account.id, 'passkey.rejected');
    expect(audit).toMatchObject({ reason: 'counter_not_increasing', possibleClone: true, presentedCounter: 1, storedCounter: 3 });
    // The same counter again (a replay of the counter value) is refused too.
    expect(codeOf(await passkeyLogin(send(), authenticator, { counter: 3 }))).toBe('PASSKEY_REJECTED');
    // Positive control: the original, counting on.
    expect((await passkeyLogin(send(), authenticator)).data?.finishPasskeyLogin.user.id).toBe(account.id);
  });

  test('authenticators without a counter (always 0, like synced passkeys) are accepted every time', async () => {
    const { account, authenticator } = await withPasskey({ authenticator: browser({ counterStep: 0, backedUp: true }) });
    for (let i = 0; i < 3; i++) expect((await passkeyLogin(send(), authenticator)).data?.finishPasskeyLogin.user.id).toBe(account.id);
    // But once a counter was seen, a 0 is a counter that went back.
    expect((await passkeyLogin(send(), authenticator, { counter: 5 })).errors).toBeUndefined();
    expect(codeOf(await passkeyLogin(send(), authenticator, { counter: 0 }))).toBe('PASSKEY_REJECTED');
  });
});

describe('racing assertions', () => {
  test('several requests racing with one challenge: exactly one signs in', async () => {
    const { account, authenticator } = await withPasskey({ authenticator: browser({ counterStep: 0 }) });
    const { challengeId, options } = await startLogin(send());
    const response = authenticator.assert(options);
    const results = await Promise.all(Array.from({ length: 6 }, () => server.gql(OP.finishLogin, { challengeId, response })));
    expect(results.filter((r) => r.data?.finishPasskeyLogin?.accessToken)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'PASSKEY_REJECTED')).toHaveLength(5);
    expect(await auditData(server, account.id, 'passkey.login')).toHaveLength(1);
  });

  test('second factors racing with one challenge: exactly one opens a session', async () => {
    const { account, authenticator } = await withPasskey({ twoFactor: true, authenticator: browser({ counterStep: 0 }) });
    const { challengeToken } = await passwordStep(server, account);
    const { challengeId, options } = await startSecondFactor(server, challengeToken);
    const response = authenticator.assert(options);
    const results = await Promise.all(Array.from({ length: 6 }, () => server.gql(OP.verifySecondFactor, { challengeToken, challengeId, response })));
    expect(results.filter((r) => r.data?.verifyTwoFactorPasskey?.accessToken)).toHaveLength(1);
    const sessions = await server.running.services.dataSource.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [account.id]);
    expect(sessions[0].n).toBe(2); // the registration's session and this one
  });

  test('two assertions with the same counter on separate challenges (a clone racing the original): one wins', async () => {
    const { authenticator } = await withPasskey();
    const [a, b] = await Promise.all([startLogin(send()), startLogin(send())]);
    const first = authenticator.assert(a.options, { counter: 7 });
    const second = authenticator.assert(b.options, { counter: 7 });
    const results = await Promise.all([server.gql(OP.finishLogin, { challengeId: a.challengeId, response: first }), server.gql(OP.finishLogin, { challengeId: b.challengeId, response: second })]);
    expect(results.filter((r) => r.data?.finishPasskeyLogin?.accessToken)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'PASSKEY_REJECTED')).toHaveLength(1);
  });
});

describe('throttling', () => {
  test('failed passkey sign-ins are limited per client address (RATE_LIMITED), a success gives its point back', async () => {
    const limited = await startTestServer(isolated({ ...PASSKEY_ENV, IP_FAILURES_PER_WINDOW: '3' }));
    try {
      const account = await registerAccount(limited);
      const authenticator = browser();
      await addPasskey(limited, account, authenticator);
      const go = (tweaks = {}) => passkeyLogin(sender(limited), authenticator, tweaks);
      for (let i = 0; i < 5; i++) expect((await go()).errors).toBeUndefined();
      for (let i = 0; i < 3; i++) expect(codeOf(await go({ uv: false }))).toBe('PASSKEY_REJECTED');
      const refused = await go();
      expect(codeOf(refused)).toBe('RATE_LIMITED');
      expect(refused.errors?.[0].extensions?.retryAfter).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });

  test('ceremonies one address may start are limited (PASSKEY_CEREMONIES_PER_WINDOW): each is a stored row', async () => {
    const limited = await startTestServer(isolated({ ...PASSKEY_ENV, PASSKEY_CEREMONIES_PER_WINDOW: '2' }));
    try {
      expect((await limited.gql(OP.startLogin)).errors).toBeUndefined();
      expect((await limited.gql(OP.startLogin)).errors).toBeUndefined();
      expect(codeOf(await limited.gql(OP.startLogin))).toBe('RATE_LIMITED');
    } finally {
      await limited.stop();
    }
  });

  test('finishPasskeyLogin counts as a credential check: four in one document are refused before any is verified', async () => {
    const query = `mutation { ${[1, 2, 3, 4].map((i) => `a${i}: finishPasskeyLogin(challengeId: "00000000-0000-4000-8000-000000000000", response: {}) { accessToken }`).join(' ')} }`;
    const res = await server.gql(query);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    const three = `mutation { ${[1, 2, 3].map((i) => `a${i}: finishPasskeyLogin(challengeId: "00000000-0000-4000-8000-000000000000", response: {}) { accessToken }`).join(' ')} }`;
    expect(codeOf(await server.gql(three))).toBe('PASSKEY_REJECTED');
  });
});
