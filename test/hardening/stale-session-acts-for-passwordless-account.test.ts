import { REAUTH_WINDOW_MS } from '../../src/sessions/recent-sign-in';
import { isolated } from '../abuse/abuse.helpers';
import { OPS, sessionOf } from '../admin/admin.helpers';
import { FakeGithub } from '../oauth/support/fake-github';
import { OAUTH_OPS, REDIRECT_URI, signIn } from '../oauth/support/oauth-client';
import { browser, OP, PASSKEY_ENV, passkeyLogin, sender, startRegistration } from '../passkeys/passkeys.helpers';
import type { SoftAuthenticator } from '../passkeys/soft-authenticator';
import { registerAccount, uniqueEmail, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { enrol } from '../two-factor/two-factor.helpers';

/**
 * An account without a password (made by a provider sign-in, or passkey-only) could not delete
 * itself: deleteMyAccount asked for a password it never had. Its proof is now a sign-in that opened
 * the caller's session within REAUTH_WINDOW_MS (plus a code when 2FA is on).
 *
 * Threat: a token of an old session (a device left signed in, a stolen refresh token kept alive by
 * refreshes) erases the account. Only the session's sign-in counts, never a refresh: such a caller
 * gets UNAUTHENTICATED with `maxAge`, and the account stays.
 */
const github = new FakeGithub();
let server: TestServer;
beforeAll(async () => {
  await github.start();
  server = await startTestServer(isolated({ ...PASSKEY_ENV, OAUTH_PROVIDERS: JSON.stringify([github.providerConfig()]), OAUTH_REDIRECT_URIS: REDIRECT_URI }));
});
afterAll(async () => {
  await server?.stop();
  await github.stop();
});

const db = () => server.running.services.dataSource;
const exists = async (userId: string): Promise<boolean> => (await db().query('SELECT 1 FROM users WHERE id = $1', [userId])).length === 1;
/** The session of this token began `ms` ago (what waiting that long after the sign-in would leave). */
const signedInAgo = (token: string, ms: number) => db().query(`UPDATE sessions SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [sessionOf(token), ms / 1000]);

type GithubUser = ReturnType<FakeGithub['addUser']>;

async function providerSignIn(user: GithubUser): Promise<TestAccount> {
  const res = await signIn((q, v, t) => server.gql(q, v ?? {}, t), 'github', (url) => github.authorize(url, user));
  const payload = res.data?.completeOAuthLogin;
  if (!payload?.accessToken) throw new Error(`provider sign-in failed: ${JSON.stringify(res.errors)}`);
  return { id: payload.user.id, email: payload.user.email, username: '', password: '', accessToken: payload.accessToken, refreshToken: payload.refreshToken };
}

/** A new account made by a GitHub sign-in: no password. */
async function providerAccount(): Promise<{ account: TestAccount; user: GithubUser }> {
  const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
  return { account: await providerSignIn(user), user };
}

/** A provider account that keeps only a passkey (its link removed): signs in with the passkey alone. */
async function passkeyOnlyAccount(): Promise<{ account: TestAccount; authenticator: SoftAuthenticator }> {
  const { account } = await providerAccount();
  const authenticator = browser();
  const { challengeId, options } = await startRegistration(server, account, null);
  const added = await server.gql(OP.finishRegistration, { challengeId, response: authenticator.register(options) }, account.accessToken);
  if (!added.data?.finishPasskeyRegistration) throw new Error(`finishPasskeyRegistration failed: ${JSON.stringify(added.errors)}`);
  const [link] = (await server.gql(OAUTH_OPS.linked, {}, account.accessToken)).data!.linkedAccounts;
  expect((await server.gql(OAUTH_OPS.unlink, { id: link.id }, account.accessToken)).data).toEqual({ unlinkAccount: true });
  return { account, authenticator };
}

describe('an account without a password deletes itself with a recent sign-in', () => {
  test('made by a provider: right after signing in, without any password', async () => {
    const { account } = await providerAccount();
    const res = await server.gql(OPS.deleteMyAccount, {}, account.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data?.deleteMyAccount).toBe(true);
    expect(await exists(account.id)).toBe(false);
    expect(codeOf(await server.gql(OPS.me, {}, account.accessToken))).toBe('UNAUTHENTICATED');
  });

  test('passkey-only: a passkey sign-in is the proof', async () => {
    const { account, authenticator } = await passkeyOnlyAccount();
    await signedInAgo(account.accessToken, REAUTH_WINDOW_MS + 60_000);
    // The session that registered the passkey is old now: refused until the owner signs in again.
    expect(codeOf(await server.gql(OPS.deleteMyAccount, {}, account.accessToken))).toBe('UNAUTHENTICATED');
    const fresh = await passkeyLogin(sender(server), authenticator);
    const token = fresh.data!.finishPasskeyLogin.accessToken as string;
    expect((await server.gql(OPS.deleteMyAccount, {}, token)).data?.deleteMyAccount).toBe(true);
    expect(await exists(account.id)).toBe(false);
  });
});

describe('a token of an old session erasing an account without a password', () => {
  test('refused (UNAUTHENTICATED with maxAge) once the sign-in is older than the window, and refreshes do not make it fresh', async () => {
    const { account, user } = await providerAccount();
    await signedInAgo(account.accessToken, REAUTH_WINDOW_MS + 60_000);
    const refused = await server.gql(OPS.deleteMyAccount, {}, account.accessToken);
    expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    expect(refused.errors![0].extensions!.maxAge).toBe(REAUTH_WINDOW_MS / 1000);
    // The token itself is fine: only this call wants a newer sign-in.
    expect((await server.gql(OPS.me, {}, account.accessToken)).data?.me.id).toBe(account.id);

    // A refresh keeps the session and its sign-in time: a new access token is no new sign-in.
    const refreshed = await server.gql(OPS.refresh, { refreshToken: account.refreshToken });
    const renewed = refreshed.data!.refreshToken.accessToken as string;
    expect(sessionOf(renewed)).toBe(sessionOf(account.accessToken));
    expect(codeOf(await server.gql(OPS.deleteMyAccount, {}, renewed))).toBe('UNAUTHENTICATED');
    expect(await exists(account.id)).toBe(true);

    // Positive control: the owner signs in again, and that new session may delete.
    const again = await providerSignIn(user);
    expect((await server.gql(OPS.deleteMyAccount, {}, again.accessToken)).data?.deleteMyAccount).toBe(true);
    expect(await exists(account.id)).toBe(false);
  });

  test('positive control at the edge: a sign-in a minute inside the window still counts', async () => {
    const { account } = await providerAccount();
    await signedInAgo(account.accessToken, REAUTH_WINDOW_MS - 60_000);
    expect((await server.gql(OPS.deleteMyAccount, {}, account.accessToken)).data?.deleteMyAccount).toBe(true);
  });

  test('a recent sign-in does not replace a password the account has, nor the second factor', async () => {
    const withPassword = await registerAccount(server);
    const missing = await server.gql(OPS.deleteMyAccount, {}, withPassword.accessToken);
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors![0].extensions!.fields).toEqual([{ field: 'password', message: expect.any(String) }]);

    // An account without a password but with 2FA on (its password gone from the row) still owes a code.
    const twoFactor = await registerAccount(server);
    const { authenticator } = await enrol(server, twoFactor);
    await db().query('UPDATE users SET password_hash = NULL WHERE id = $1', [twoFactor.id]);
    const noCode = await server.gql(OPS.deleteMyAccount, {}, twoFactor.accessToken);
    expect(codeOf(noCode)).toBe('BAD_USER_INPUT');
    expect(noCode.errors![0].extensions!.fields).toEqual([{ field: 'code', message: expect.any(String) }]);
    expect(codeOf(await server.gql(OPS.deleteMyAccount, { code: '000000' }, twoFactor.accessToken))).toBe('INVALID_TWO_FACTOR_CODE');
    expect(await exists(twoFactor.id)).toBe(true);
    // Positive control: with a valid code the same recent session deletes.
    expect((await server.gql(OPS.deleteMyAccount, { code: await authenticator.next() }, twoFactor.accessToken)).data?.deleteMyAccount).toBe(true);
    expect(await exists(twoFactor.id)).toBe(false);
  });
});

/**
 * Threat: a token of an old session adding a lasting way in. An account without a password had no
 * re-check on its passkeys: whoever held any access token could register their own authenticator
 * (and keep signing in after the token died) or remove the owner's. The same recent sign-in is asked.
 */
describe('a token of an old session changing the passkeys of an account without a password', () => {
  const startAdding = (token: string) => server.gql(OP.startRegistration, { password: null }, token);

  test('adding a passkey: refused once the sign-in is older than the window; a fresh sign-in may', async () => {
    const { account, user } = await providerAccount();
    await signedInAgo(account.accessToken, REAUTH_WINDOW_MS + 60_000);
    const refused = await startAdding(account.accessToken);
    expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    expect(refused.errors![0].extensions!.maxAge).toBe(REAUTH_WINDOW_MS / 1000);
    expect(await db().query('SELECT 1 FROM passkey_challenges WHERE user_id = $1', [account.id])).toEqual([]);

    const again = await providerSignIn(user);
    const allowed = await startAdding(again.accessToken);
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data?.startPasskeyRegistration.challengeId).toEqual(expect.any(String));
  });

  test('removing a passkey: refused on an old session, done on a fresh one', async () => {
    const { account, user } = await providerAccount();
    const { challengeId, options } = await startRegistration(server, account, null);
    const added = await server.gql(OP.finishRegistration, { challengeId, response: browser().register(options) }, account.accessToken);
    const passkeyId = added.data!.finishPasskeyRegistration.id as string;
    await signedInAgo(account.accessToken, REAUTH_WINDOW_MS + 60_000);
    expect(codeOf(await server.gql(OP.remove, { id: passkeyId, password: null }, account.accessToken))).toBe('UNAUTHENTICATED');
    expect(await db().query('SELECT 1 FROM passkeys WHERE id = $1', [passkeyId])).toHaveLength(1);

    const again = await providerSignIn(user);
    expect((await server.gql(OP.remove, { id: passkeyId, password: null }, again.accessToken)).data?.deletePasskey).toBe(true);
  });
});
