import { uniqueEmail, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { FakeGithub } from '../oauth/support/fake-github';
import { OAUTH_OPS, REDIRECT_URI, signIn } from '../oauth/support/oauth-client';
import { browser, OP, PASSKEY_ENV, startRegistration } from './passkeys.helpers';

/**
 * Threat: a passwordless account (made by a provider sign-in) talked into removing its ways in one
 * by one until none is left: its owner is locked out for good. The last passkey of an account with
 * no password and no provider link cannot be removed (LAST_SIGN_IN_METHOD), and a passkey counts as
 * a way in when the last provider link goes.
 */
const github = new FakeGithub();
let server: TestServer;
beforeAll(async () => {
  await github.start();
  server = await startTestServer({ ...PASSKEY_ENV, OAUTH_PROVIDERS: JSON.stringify([github.providerConfig()]), OAUTH_REDIRECT_URIS: REDIRECT_URI });
});
afterAll(async () => {
  await server.stop();
  await github.stop();
});

async function passwordlessAccount(): Promise<TestAccount> {
  const user = github.addUser([{ email: uniqueEmail('gh'), primary: true, verified: true }]);
  const res = await signIn((q, v, t) => server.gql(q, v ?? {}, t), 'github', (url) => github.authorize(url, user));
  const payload = res.data?.completeOAuthLogin;
  if (!payload?.accessToken) throw new Error(`provider sign-in failed: ${JSON.stringify(res.errors)}`);
  return { id: payload.user.id, email: payload.user.email, username: '', password: '', accessToken: payload.accessToken, refreshToken: payload.refreshToken };
}

async function addPasskeyWithoutPassword(account: TestAccount): Promise<string> {
  const authenticator = browser();
  const { challengeId, options } = await startRegistration(server, account, null);
  const res = await server.gql(OP.finishRegistration, { challengeId, response: authenticator.register(options) }, account.accessToken);
  if (!res.data?.finishPasskeyRegistration) throw new Error(`finishPasskeyRegistration failed: ${JSON.stringify(res.errors)}`);
  return res.data.finishPasskeyRegistration.id;
}

const deletePasskey = (account: TestAccount, id: string) => server.gql(OP.remove, { id, password: null }, account.accessToken);

test('the last passkey of an account with no password and no provider left cannot be removed', async () => {
  const account = await passwordlessAccount();
  const passkey = await addPasskeyWithoutPassword(account);
  // The passkey counts as a way in: the provider link may go.
  const links = await server.gql(OAUTH_OPS.linked, {}, account.accessToken);
  expect(links.data?.linkedAccounts).toHaveLength(1);
  expect((await server.gql(OAUTH_OPS.unlink, { id: links.data!.linkedAccounts[0].id }, account.accessToken)).data).toEqual({ unlinkAccount: true });
  const refused = await deletePasskey(account, passkey);
  expect(codeOf(refused)).toBe('LAST_SIGN_IN_METHOD');
  expect((await server.gql(OP.passkeys, {}, account.accessToken)).data?.passkeys).toHaveLength(1);
});

test('positive control: with a second passkey, or a provider link, a passkey can be removed', async () => {
  const account = await passwordlessAccount();
  const first = await addPasskeyWithoutPassword(account);
  const second = await addPasskeyWithoutPassword(account);
  expect((await deletePasskey(account, first)).data).toEqual({ deletePasskey: true });
  // The provider link is still there: the last passkey may go too.
  expect((await deletePasskey(account, second)).data).toEqual({ deletePasskey: true });
  expect((await server.gql(OP.passkeys, {}, account.accessToken)).data?.passkeys).toEqual([]);
});
