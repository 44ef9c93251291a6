import { isolated, login } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { cli } from '../support/cli';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { pollUntil } from '../support/time';
import { claimsOf } from '../support/tokens';

/**
 * Threat: a demoted administrator keeps a token that says ADMIN. Bouncer's own guards read the
 * current roles, but other services trust the token's `roles` claim through the JWKS, for up to the
 * access-token lifetime, and a refresh minted more such tokens. Reducing roles now ends the
 * account's sessions: the token is refused, and no refresh can renew it.
 */
const ME = operation('Me');
const SET_ROLES = operation('SetUserRoles');
const REFRESH = operation('RefreshToken');

let server: TestServer;
let admin: TestAccount;

const db = () => server.running.services.dataSource;

async function makeAdmin(account: TestAccount): Promise<void> {
  await db().query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE id = $1`, [account.id]);
}

async function signIn(account: TestAccount): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await login(server, account.email, account.password);
  if (!res.data?.login?.accessToken) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
  return res.data.login;
}

const rolesClaim = (token: string): string[] => claimsOf(token).roles;

beforeAll(async () => {
  server = await startTestServer(isolated());
  admin = await registerAccount(server);
  await makeAdmin(admin);
});
afterAll(() => server.stop());

test("a demoted administrator's access token is refused at once, and its session cannot be refreshed", async () => {
  const demoted = await registerAccount(server);
  await makeAdmin(demoted);
  const session = await signIn(demoted);
  expect(rolesClaim(session.accessToken)).toEqual(['USER', 'ADMIN']);
  expect((await server.gql(ME, {}, session.accessToken)).data?.me?.roles).toEqual(['USER', 'ADMIN']);

  const res = await server.gql(SET_ROLES, { userId: demoted.id, roles: ['USER'] }, admin.accessToken);
  expect(res.data?.setUserRoles.roles).toEqual(['USER']);

  const me = await server.gql(ME, {}, session.accessToken);
  expect({ code: codeOf(me), me: me.data?.me ?? null }).toEqual({ code: 'UNAUTHENTICATED', me: null });
  expect(codeOf(await server.gql(REFRESH, { refreshToken: session.refreshToken }))).toBe('INVALID_TOKEN');
  const audited: Array<{ n: string }> = await db().query(
    `SELECT count(*) AS n FROM audit_events WHERE user_id = $1 AND type = 'session.revoked' AND data->>'reason' = 'roles_reduced'`,
    [demoted.id],
  );
  expect(Number(audited[0].n)).toBe(2); // the session of register and the one of login
  // Signing in again gives a token with the roles as they are now.
  expect(rolesClaim((await signIn(demoted)).accessToken)).toEqual(['USER']);
});

test('a role addition ends no session (positive control)', async () => {
  const promoted = await registerAccount(server);
  const session = await signIn(promoted);
  const res = await server.gql(SET_ROLES, { userId: promoted.id, roles: ['USER', 'ADMIN'] }, admin.accessToken);
  expect(res.data?.setUserRoles.roles).toEqual(['USER', 'ADMIN']);
  expect((await server.gql(ME, {}, session.accessToken)).data?.me?.id).toBe(promoted.id);
  const refreshed = await server.gql(REFRESH, { refreshToken: session.refreshToken });
  expect(refreshed.errors).toBeUndefined();
  expect(rolesClaim(refreshed.data!.refreshToken.accessToken)).toEqual(['USER', 'ADMIN']);
});

test('revoke-role through the CLI ends the sessions too: every instance refuses the token within 5 s', async () => {
  const demoted = await registerAccount(server);
  await makeAdmin(demoted);
  const session = await signIn(demoted);
  const bystander = await signIn(admin);
  expect((await server.gql(ME, {}, session.accessToken)).data?.me?.id).toBe(demoted.id);

  expect(await cli('revoke-role', demoted.email, 'ADMIN')).toMatchObject({ code: 0 });
  const refused = await pollUntil(async () => codeOf(await server.gql(ME, {}, session.accessToken)), (code) => code === 'UNAUTHENTICATED', { timeoutMs: 5000 });
  expect(refused.value).toBe('UNAUTHENTICATED');
  expect(codeOf(await server.gql(REFRESH, { refreshToken: session.refreshToken }))).toBe('INVALID_TOKEN');
  // Positive control: another account's session lives on.
  expect((await server.gql(ME, {}, bystander.accessToken)).data?.me?.id).toBe(admin.id);
});
