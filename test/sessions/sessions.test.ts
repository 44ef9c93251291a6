import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { pollUntil } from '../support/time';
import { sidOf as sid } from '../support/tokens';

const ME = '{ me { id } }';
const SESSIONS = '{ sessions { id current createdAt lastUsedAt expiresAt userAgent ipAddress } }';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

async function loginAgain(account: TestAccount, userAgent = 'second-device'): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } }, undefined, { 'user-agent': userAgent });
  return res.data!.login;
}

test('sessions lists the live sessions of the caller only, marking the current one', async () => {
  const account = await registerAccount(server);
  const second = await loginAgain(account, 'Mozilla/5.0 test');
  const stranger = await registerAccount(server);
  const res = await server.gql(SESSIONS, {}, account.accessToken);
  const sessions = res.data!.sessions as Array<{ id: string; current: boolean; userAgent: string; ipAddress: string; expiresAt: string }>;
  expect(sessions.map((s) => s.id).sort()).toEqual([sid(account.accessToken), sid(second.accessToken)].sort());
  expect(sessions.find((s) => s.current)!.id).toBe(sid(account.accessToken));
  expect(sessions.find((s) => s.id === sid(second.accessToken))!.userAgent).toBe('Mozilla/5.0 test');
  expect(sessions[0].ipAddress).toBe('127.0.0.1');
  expect(Date.parse(sessions[0].expiresAt)).toBeGreaterThan(Date.now());
  expect(sessions.map((s) => s.id)).not.toContain(sid(stranger.accessToken));
});

test('logout revokes the current session at once: its access token is refused on the next request', async () => {
  const account = await registerAccount(server);
  const other = await loginAgain(account);
  expect((await server.gql('mutation { logout }', {}, account.accessToken)).data).toEqual({ logout: true });
  expect(codeOf(await server.gql(ME, {}, account.accessToken))).toBe('UNAUTHENTICATED');
  expect((await server.gql(ME, {}, other.accessToken)).data?.me).toEqual({ id: account.id });
  const listed = await server.gql(SESSIONS, {}, other.accessToken);
  expect(listed.data!.sessions.map((s: { id: string }) => s.id)).toEqual([sid(other.accessToken)]);
});

test('logoutAll revokes every session of the caller', async () => {
  const account = await registerAccount(server);
  const other = await loginAgain(account);
  expect((await server.gql('mutation { logoutAll }', {}, account.accessToken)).data).toEqual({ logoutAll: true });
  expect(codeOf(await server.gql(ME, {}, account.accessToken))).toBe('UNAUTHENTICATED');
  expect(codeOf(await server.gql(ME, {}, other.accessToken))).toBe('UNAUTHENTICATED');
});

test('revokeSession ends another session of the caller', async () => {
  const account = await registerAccount(server);
  const other = await loginAgain(account);
  const res = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: sid(other.accessToken) }, account.accessToken);
  expect(res.data).toEqual({ revokeSession: true });
  expect(codeOf(await server.gql(ME, {}, other.accessToken))).toBe('UNAUTHENTICATED');
  expect((await server.gql(ME, {}, account.accessToken)).data?.me).toEqual({ id: account.id });
  const audit: Array<{ data: { reason: string } }> = await server.running.services.dataSource.query(
    `SELECT data FROM audit_events WHERE type = 'session.revoked' AND session_id = $1`,
    [sid(other.accessToken)],
  );
  expect(audit).toEqual([{ data: { reason: 'revoked_by_user' } }]);
});

test("revokeSession cannot end another user's session, and does not reveal that it exists", async () => {
  const attacker = await registerAccount(server);
  const victim = await registerAccount(server);
  const res = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: sid(victim.accessToken) }, attacker.accessToken);
  expect(codeOf(res)).toBe('BAD_USER_INPUT');
  const unknown = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: '00000000-0000-4000-8000-000000000000' }, attacker.accessToken);
  expect(unknown.errors![0].message).toBe(res.errors![0].message);
  expect((await server.gql(ME, {}, victim.accessToken)).data?.me).toEqual({ id: victim.id });
});

test('revokeSession refuses a malformed id with BAD_USER_INPUT on id', async () => {
  const account = await registerAccount(server);
  const res = await server.gql('mutation($id: ID!) { revokeSession(id: $id) }', { id: "1' OR '1'='1" }, account.accessToken);
  expect(codeOf(res)).toBe('BAD_USER_INPUT');
  expect(res.errors![0].extensions!.fields).toEqual([{ field: 'id', message: expect.any(String) }]);
});

test('a session revoked through one instance is refused by another instance on the same database within 5 s', async () => {
  const other = await startTestServer({ REVOCATION_POLL_MS: '1000' });
  try {
    const account = await registerAccount(server);
    expect((await other.gql(ME, {}, account.accessToken)).data?.me).toEqual({ id: account.id });
    await server.gql('mutation { logout }', {}, account.accessToken);
    const revokedAt = Date.now();
    const refused = await pollUntil(async () => codeOf(await other.gql(ME, {}, account.accessToken)), (code) => code === 'UNAUTHENTICATED', { timeoutMs: 6000 });
    const refusedAfter = Date.now() - revokedAt;
    expect(refused.value).toBe('UNAUTHENTICATED');
    expect(refusedAfter).toBeLessThan(5000);
  } finally {
    await other.stop();
  }
});
