import { getNamedType, isObjectType, isUnionType, type GraphQLSchema } from 'graphql';
import { buildBouncerSchema } from '../../src/schema/build-schema';
import { SignInService, SIGN_IN_COLUMNS, type SignInAccount } from '../../src/sign-in/sign-in.service';
import { signInMethod } from '../../src/sign-in/sign-in-method';
import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process';
import { codeOf, postGraphQL, startTestServer, testEnv, type GraphQLResponse, type TestServer } from '../support/test-server';
import { enrol } from '../two-factor/two-factor.helpers';
import { addPasskey, browser, PASSKEY_ENV, passkeyLogin } from '../passkeys/passkeys.helpers';
import type { SoftAuthenticator } from '../passkeys/soft-authenticator';
import { FakeGithub, type GithubUser } from '../oauth/support/fake-github';
import { link, REDIRECT_URI, signIn } from '../oauth/support/oauth-client';

/**
 * The sign-in pipeline cannot be bypassed: every mutation that hands out tokens is either a way in
 * that ends in the pipeline (and gives a 2FA account a challenge) or is listed here with the reason
 * it is not one. A new way in that is not added here fails the first test.
 */
type Send = (query: string, variables: Record<string, unknown>, token?: string) => Promise<GraphQLResponse<Record<string, any>>>;
// OAuth sign-ins go through a local stand-in for GitHub (plain HTTP, no ESM library), so they run
// in-process as well as in the built service.
const github = new FakeGithub();
const githubUsers = new Map<string, GithubUser>();
const oauthEnv = (): Record<string, string> => ({ OAUTH_PROVIDERS: JSON.stringify([github.providerConfig()]), OAUTH_REDIRECT_URIS: REDIRECT_URI });
beforeAll(() => github.start());
afterAll(() => github.stop());

const SIGN_IN_ENTRY_POINTS: Record<string, (send: Send, account: TestAccount) => Promise<GraphQLResponse<Record<string, any>>>> = {
  login: (send, account) => send(LOGIN, { input: { identifier: account.email, password: account.password } }),
  // The account links a GitHub account once (explicitly, while signed in), then signs in with it.
  completeOAuthLogin: async (send, account) => {
    let user = githubUsers.get(account.id);
    if (!user) {
      githubUsers.set(account.id, (user = github.addUser([{ email: `gh-${account.email}`, primary: true, verified: true }])));
      const linked = await link((q, v, t) => send(q, v ?? {}, t), account.accessToken, 'github', (url) => github.authorize(url, user!));
      if (!linked.data?.completeOAuthLink) throw new Error(`link failed: ${JSON.stringify(linked.errors)}`);
    }
    return signIn((q, v) => send(q, v ?? {}), 'github', (url) => github.authorize(url, user!));
  },
};
/**
 * Ways in that prove two factors by themselves (their method declares provesSecondFactor): a 2FA
 * account gets a full session from them, and only when what makes them two factors was checked.
 */
interface TwoFactorWayIn {
  /** What the account needs first (a passkey). */
  prepare(server: TestServer, account: TestAccount): Promise<SoftAuthenticator>;
  /** `oneFactor`: the same call with the second factor missing (a passkey assertion without user verification). */
  call(send: Send, authenticator: SoftAuthenticator, oneFactor: boolean): Promise<GraphQLResponse<Record<string, any>>>;
}
const TWO_FACTOR_ENTRY_POINTS: Record<string, TwoFactorWayIn> = {
  finishPasskeyLogin: {
    prepare: async (server, account) => {
      const authenticator = browser();
      await addPasskey(server, account, authenticator);
      return authenticator;
    },
    call: (send, authenticator, oneFactor) => passkeyLogin((query, variables = {}) => send(query, variables), authenticator, { uv: !oneFactor }),
  },
};
const NOT_ENTRY_POINTS: Record<string, string> = {
  register: 'creates a new account, which has no second factor yet',
  verifyTwoFactor: 'is the second step itself',
  verifyTwoFactorPasskey: 'is the second step itself (a passkey answering a TwoFactorChallenge)',
  refreshToken: 'continues a session that already passed the pipeline',
};

function tokenIssuingMutations(schema: GraphQLSchema): string[] {
  const fields = Object.values(schema.getMutationType()!.getFields());
  return fields
    .filter((field) => {
      const type = getNamedType(field.type);
      const members = isUnionType(type) ? type.getTypes() : isObjectType(type) ? [type] : [];
      return members.some((t) => t.name === 'AuthPayload');
    })
    .map((f) => f.name)
    .sort();
}

test('every mutation that hands out tokens is a known sign-in entry point or listed with its reason', async () => {
  const found = tokenIssuingMutations(await buildBouncerSchema());
  expect(found.length).toBeGreaterThan(0);
  expect(found).toEqual([...Object.keys(SIGN_IN_ENTRY_POINTS), ...Object.keys(TWO_FACTOR_ENTRY_POINTS), ...Object.keys(NOT_ENTRY_POINTS)].sort());
});

describe.each([
  ['in-process (startBouncer)', 'in-process'],
  ['the built service (node dist/src/main.js)', 'process'],
])('a 2FA account gets a challenge from every entry point, started %s', (_label, path) => {
  let server: TestServer;
  let child: ServiceProcess | undefined;
  let send: Send;
  beforeAll(async () => {
    const env = { ...PASSKEY_ENV, ...oauthEnv() };
    server = await startTestServer(env);
    send = (query, variables, token) => server.gql(query, variables, token);
    if (path === 'process') {
      child = await startServiceProcess(testEnv(env));
      send = (query, variables, token) => postGraphQL(child!.url, query, variables, token);
    }
  });
  afterAll(async () => {
    await child?.stop();
    await server.stop();
  });

  test.each(Object.keys(SIGN_IN_ENTRY_POINTS))('%s', async (entry) => {
    const account = await registerAccount(server);
    // Positive control: before 2FA is on, the same call signs in.
    expect((await SIGN_IN_ENTRY_POINTS[entry](send, account)).data?.[entry].__typename).toBe('AuthPayload');
    await enrol(server, account);
    const res = await SIGN_IN_ENTRY_POINTS[entry](send, account);
    expect(res.errors).toBeUndefined();
    expect(res.data?.[entry]).toMatchObject({ __typename: 'TwoFactorChallenge', methods: ['TOTP', 'RECOVERY_CODE'] });
    expect(res.data?.[entry].accessToken).toBeUndefined();
  });

  test.each(Object.keys(TWO_FACTOR_ENTRY_POINTS))('%s proves two factors: a full session for a 2FA account, refused without the second factor', async (entry) => {
    const account = await registerAccount(server);
    const way = TWO_FACTOR_ENTRY_POINTS[entry];
    const authenticator = await way.prepare(server, account);
    await enrol(server, account);
    const res = await way.call(send, authenticator, false);
    expect(res.errors).toBeUndefined();
    expect(res.data?.[entry]).toMatchObject({ accessToken: expect.any(String), user: { id: account.id, twoFactorEnabled: true } });
    // A UV-less assertion is one factor (presence): refused, never downgraded to a challenge.
    const oneFactor = await way.call(send, authenticator, true);
    expect(codeOf(oneFactor)).toBe('PASSKEY_REJECTED');
    expect(oneFactor.data?.[entry]).toBeFalsy();
  });
});

describe('the pipeline itself', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const accountRow = async (id: string): Promise<SignInAccount> =>
    (await server.running.services.dataSource.query(`SELECT ${SIGN_IN_COLUMNS} FROM users WHERE id = $1`, [id]))[0];
  const request = { ip: '127.0.0.1', userAgent: 'jest' };

  test('only a method that declares it proves two factors skips the challenge', async () => {
    const account = await registerAccount(server);
    await enrol(server, account);
    const pipeline = server.running.container.get(SignInService);
    const oneFactor = await pipeline.complete(await accountRow(account.id), signInMethod('test-one-factor'), request);
    expect(oneFactor).toHaveProperty('challengeToken');
    const twoFactors = await pipeline.complete(await accountRow(account.id), signInMethod('test-two-factors', { provesSecondFactor: true }), request);
    expect(twoFactors).toHaveProperty('accessToken');
  });

  test('an account an administrator locked is refused after a right password, and a wrong one still says INVALID_CREDENTIALS', async () => {
    const account = await registerAccount(server);
    const login = (password: string) => server.gql(LOGIN, { input: { identifier: account.email, password } });
    expect((await login(account.password)).data?.login.__typename).toBe('AuthPayload');
    await server.running.services.dataSource.query('UPDATE users SET locked_at = now() WHERE id = $1', [account.id]);
    expect(codeOf(await login(account.password))).toBe('ACCOUNT_LOCKED');
    expect(codeOf(await login(`${account.password}-wrong`))).toBe('INVALID_CREDENTIALS');
  });
});
