import { addSignInMethodCounter } from '../../src/sign-in/sign-in-method-counters';
import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { FakeGithub, GITHUB_CLIENT_SECRET, type GithubUser } from './support/fake-github';
import { completeLink, completeLogin, link, OAUTH_OPS, REDIRECT_URI, signIn, start, type Authorize, type Send } from './support/oauth-client';

/**
 * GitHub as a plain OAuth 2.0 provider (a local stand-in for its OAuth and REST endpoints), in
 * process: what counts as GitHub's identity, and the flow and linking rules that do not depend on
 * the kind of provider.
 */
const github = new FakeGithub();
let server: TestServer;
let send: Send;
/** Accounts that another module (passkeys, in the real service) says can still sign in. */
const otherWaysIn = new Set<string>();

beforeAll(async () => {
  await github.start();
  server = await startTestServer(
    { OAUTH_PROVIDERS: JSON.stringify([github.providerConfig()]), OAUTH_REDIRECT_URIS: REDIRECT_URI },
    { override: (c) => addSignInMethodCounter(c, { name: 'test-passkeys', count: async (_m, userId) => (otherWaysIn.has(userId) ? 1 : 0) }) },
  );
  send = (q, v, t) => server.gql(q, v, t);
});
afterAll(async () => {
  await server.stop();
  await github.stop();
});

const as = (user: GithubUser): Authorize => (url) => github.authorize(url, user);
const db = () => server.running.services.dataSource;
const markVerified = (userId: string) => db().query('UPDATE users SET email_verified = true WHERE id = $1', [userId]);

describe("GitHub's identity", () => {
  test('the subject is the numeric user id: a changed address still signs in to the same account', async () => {
    const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    const first = await signIn(send, 'github', as(user));
    expect(first.data?.completeOAuthLogin.user).toMatchObject({ email: user.emails[0].email, emailVerified: true });
    const rows = await db().query('SELECT subject FROM linked_accounts WHERE user_id = $1', [first.data!.completeOAuthLogin.user.id]);
    expect(rows).toEqual([{ subject: String(user.id) }]);
    user.emails = [{ email: uniqueEmail('gh-renamed'), primary: true, verified: true }];
    expect((await signIn(send, 'github', as(user))).data?.completeOAuthLogin.user.id).toBe(first.data!.completeOAuthLogin.user.id);
    // Bouncer authenticated to GitHub's token endpoint with its client secret.
    expect(github.receivedSecrets.at(-1)).toBe(GITHUB_CLIENT_SECRET);
  });

  test('only the primary address counts, and only when GitHub verified it', async () => {
    const owner = await registerAccount(server);
    await markVerified(owner.id);
    // A verified secondary address equal to the owner's does not link: it is not the primary.
    const secondary = github.addUser([
      { email: uniqueEmail('gh-primary'), primary: true, verified: false },
      { email: owner.email, primary: false, verified: true },
    ]);
    const refused = await signIn(send, 'github', as(secondary));
    expect(codeOf(refused)).toBe('OAUTH_FAILED'); // no usable address: nothing to match or create
    expect(await db().query('SELECT count(*)::int AS n FROM linked_accounts WHERE user_id = $1', [owner.id])).toEqual([{ n: 0 }]);
    // An unverified primary equal to the owner's does not link either.
    const unverified = github.addUser([{ email: owner.email, primary: true, verified: false }]);
    expect(codeOf(await signIn(send, 'github', as(unverified)))).toBe('OAUTH_FAILED');
    // Positive control: a verified primary equal to the owner's links.
    const genuine = github.addUser([{ email: owner.email, primary: true, verified: true }]);
    expect((await signIn(send, 'github', as(genuine))).data?.completeOAuthLogin.user.id).toBe(owner.id);
  });
});

describe('flow binding', () => {
  test('login CSRF: a link flow cannot be completed as a sign-in, nor by another account, nor a sign-in flow as a link', async () => {
    const victim = await registerAccount(server);
    const attacker = await registerAccount(server);
    const attackerGithub = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    // The attacker starts a link for their own account and hands the callback to someone else.
    const flow = await start(send, 'github', { token: attacker.accessToken });
    const callback = await as(attackerGithub)(flow.authorizationUrl);
    const args = { state: callback.state, code: callback.code, codeVerifier: flow.verifier };
    expect(codeOf(await completeLink(send, victim.accessToken, args))).toBe('OAUTH_FAILED');
    const again = await start(send, 'github', { token: attacker.accessToken });
    const cb2 = await as(attackerGithub)(again.authorizationUrl);
    expect(codeOf(await completeLogin(send, { state: cb2.state, code: cb2.code, codeVerifier: again.verifier }))).toBe('OAUTH_FAILED');
    const login = await start(send, 'github');
    const cb3 = await as(attackerGithub)(login.authorizationUrl);
    expect(codeOf(await completeLink(send, victim.accessToken, { state: cb3.state, code: cb3.code, codeVerifier: login.verifier }))).toBe('OAUTH_FAILED');
    expect(await db().query('SELECT count(*)::int AS n FROM linked_accounts WHERE user_id = $1', [victim.id])).toEqual([{ n: 0 }]);
    // Positive control: the account that started the link completes it.
    expect((await link(send, attacker.accessToken, 'github', as(attackerGithub))).data?.completeOAuthLink.provider).toBe('github');
  });

  test('startOAuthLink and completeOAuthLink need a signed-in caller', async () => {
    const flow = await start(send, 'github');
    expect(codeOf(await send(OAUTH_OPS.startLink, { provider: 'github', redirectUri: REDIRECT_URI, codeChallenge: 'x'.repeat(43) }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await send(OAUTH_OPS.completeLink, { state: flow.state, code: 'c', codeVerifier: flow.verifier }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await send(OAUTH_OPS.linked))).toBe('UNAUTHENTICATED');
  });

  test('a malformed codeChallenge is refused at the start (S256 only)', async () => {
    for (const codeChallenge of ['plain-verifier', 'x'.repeat(42), `${'x'.repeat(42)}=`]) {
      expect(codeOf(await send(OAUTH_OPS.startLogin, { provider: 'github', redirectUri: REDIRECT_URI, codeChallenge }))).toBe('OAUTH_FAILED');
    }
    expect((await start(send, 'github')).state).toBeTruthy();
  });
});

describe('accounts', () => {
  test('a locked account is refused after the provider sign-in (ACCOUNT_LOCKED), and nothing is linked on the way', async () => {
    const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    const userId = (await signIn(send, 'github', as(user))).data!.completeOAuthLogin.user.id;
    await db().query('UPDATE users SET locked_at = now() WHERE id = $1', [userId]);
    expect(codeOf(await signIn(send, 'github', as(user)))).toBe('ACCOUNT_LOCKED');
    await db().query('UPDATE users SET locked_at = NULL WHERE id = $1', [userId]);
    expect((await signIn(send, 'github', as(user))).data?.completeOAuthLogin.user.id).toBe(userId);
  });

  test('two unlinks racing for the last two links of an account without a password: exactly one succeeds', async () => {
    const first = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    const created = (await signIn(send, 'github', as(first))).data!.completeOAuthLogin;
    await link(send, created.accessToken, 'github', as(github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }])));
    const ids = (await send(OAUTH_OPS.linked, {}, created.accessToken)).data!.linkedAccounts.map((l: { id: string }) => l.id);
    expect(ids).toHaveLength(2);
    const results = await Promise.all(ids.map((id: string) => send(OAUTH_OPS.unlink, { id }, created.accessToken)));
    expect(results.map((r) => r.data?.unlinkAccount ?? codeOf(r)).sort()).toEqual(['LAST_SIGN_IN_METHOD', true].sort());
    expect((await send(OAUTH_OPS.linked, {}, created.accessToken)).data!.linkedAccounts).toHaveLength(1);
  });

  test("another module's way in (a passkey) counts: the last link of an account without a password may go then", async () => {
    const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    const created = (await signIn(send, 'github', as(user))).data!.completeOAuthLogin;
    const [only] = (await send(OAUTH_OPS.linked, {}, created.accessToken)).data!.linkedAccounts;
    expect(codeOf(await send(OAUTH_OPS.unlink, { id: only.id }, created.accessToken))).toBe('LAST_SIGN_IN_METHOD');
    otherWaysIn.add(created.user.id);
    expect((await send(OAUTH_OPS.unlink, { id: only.id }, created.accessToken)).data?.unlinkAccount).toBe(true);
  });

  test('an account made by a provider has no password: any password is INVALID_CREDENTIALS, changePassword too', async () => {
    const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
    const created = (await signIn(send, 'github', as(user))).data!.completeOAuthLogin;
    for (const password of ['', 'Tr0ub4dor&3-guess', 'null']) {
      expect(codeOf(await send(LOGIN, { input: { identifier: created.user.email, password } }))).toBe('INVALID_CREDENTIALS');
    }
    const change = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    expect(codeOf(await send(change, { c: 'anything-at-all', n: 'A-new-Passw0rd-here' }, created.accessToken))).toBe('INVALID_CREDENTIALS');
  });
});
