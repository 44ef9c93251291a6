import { isolated, login } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { pollUntil } from '../support/time';

/**
 * Threat: an intruder who knows the password opens (or has opened) so many sessions that the
 * owner's "sign everyone out" fails, so the intruder can never be evicted. One audit row per
 * session used to be written with one bind parameter set per row: past PostgreSQL's 65,535 bind
 * parameters (~11,000 sessions) changePassword and logoutAll failed and rolled back.
 */
const ME = operation('Me');
const SESSIONS = operation('Sessions');
const CHANGE_PASSWORD = operation('ChangePassword');
const LOGOUT_ALL = operation('LogoutAll');
const REFRESH = operation('RefreshToken');
const FLOOD = 12_000;
const CAP = 100; // SESSION_MAX_PER_USER's default

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated({ BCRYPT_ROUNDS: '4' }));
});
afterAll(() => server.stop());

const db = () => server.running.services.dataSource;

/** The attacker's state, written straight into the database: FLOOD live sessions of the account. */
async function floodSessions(userId: string): Promise<void> {
  await db().query(
    `INSERT INTO sessions (user_id, expires_at, user_agent, ip_address)
     SELECT $1, now() + interval '30 days', 'intruder-' || g, '203.0.113.7' FROM generate_series(1, $2) g`,
    [userId, FLOOD],
  );
}

async function liveSessions(userId: string): Promise<number> {
  const rows: Array<{ n: string }> = await db().query('SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  return Number(rows[0].n);
}

async function revocationAudits(userId: string, reason: string): Promise<number> {
  const rows: Array<{ n: string }> = await db().query(
    `SELECT count(*) AS n FROM audit_events WHERE user_id = $1 AND type = 'session.revoked' AND data->>'reason' = $2`,
    [userId, reason],
  );
  return Number(rows[0].n);
}

async function signIn(account: TestAccount, password = account.password): Promise<string> {
  const res = await login(server, account.email, password);
  if (!res.data?.login?.accessToken) throw new Error(`login failed: ${JSON.stringify(res.errors)}`);
  return res.data.login.accessToken as string;
}

describe('an intruder who knows the password can always be evicted', () => {
  test(`changePassword ends all of ${FLOOD.toLocaleString('en')} sessions and keeps the caller's own`, async () => {
    const owner = await registerAccount(server);
    const intruder = await signIn(owner);
    await floodSessions(owner.id);
    expect(await liveSessions(owner.id)).toBe(FLOOD + 2);
    // Positive control: before the change, the intruder's token works.
    expect((await server.gql(ME, {}, intruder)).data?.me?.id).toBe(owner.id);

    const res = await server.gql(CHANGE_PASSWORD, { currentPassword: owner.password, newPassword: `${owner.password}-new` }, owner.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ changePassword: true });

    expect(await liveSessions(owner.id)).toBe(1); // the caller's own session stays
    expect(codeOf(await server.gql(ME, {}, intruder))).toBe('UNAUTHENTICATED');
    expect((await server.gql(ME, {}, owner.accessToken)).data?.me?.id).toBe(owner.id);
    expect(await revocationAudits(owner.id, 'password_changed')).toBe(FLOOD + 1);
  });

  test(`logoutAll ends all of ${FLOOD.toLocaleString('en')} sessions, the caller's included`, async () => {
    const owner = await registerAccount(server);
    const intruder = await signIn(owner);
    await floodSessions(owner.id);
    expect((await server.gql(ME, {}, intruder)).data?.me?.id).toBe(owner.id);

    const res = await server.gql(LOGOUT_ALL, {}, owner.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ logoutAll: true });

    expect(await liveSessions(owner.id)).toBe(0);
    expect(codeOf(await server.gql(ME, {}, intruder))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(ME, {}, owner.accessToken))).toBe('UNAUTHENTICATED');
    expect(await revocationAudits(owner.id, 'logout_all')).toBe(FLOOD + 2);
  });
});

describe(`an account holds at most ${CAP} live sessions`, () => {
  test('logging in 105 times leaves the 100 most recently used sessions, and ends the others audited', async () => {
    const account = await registerAccount(server); // session 1
    const tokens = [account.accessToken];
    const firstRefresh = account.refreshToken;
    for (let i = 0; i < CAP - 1; i++) tokens.push(await signIn(account)); // sessions 2..100

    // Positive control: at the cap nothing has ended yet.
    expect(await liveSessions(account.id)).toBe(CAP);
    expect((await server.gql(ME, {}, tokens[1])).data?.me?.id).toBe(account.id);

    // Using the oldest session makes it the most recently used: it must survive the overflow.
    const refreshed = await server.gql(REFRESH, { refreshToken: firstRefresh });
    expect(refreshed.errors).toBeUndefined();
    const firstToken = refreshed.data!.refreshToken.accessToken as string;

    for (let i = 0; i < 6; i++) tokens.push(await signIn(account)); // 105 logins in all, 106 sessions

    expect(await liveSessions(account.id)).toBe(CAP);
    const listed = await server.gql(SESSIONS, {}, tokens[tokens.length - 1]);
    expect(listed.data?.sessions).toHaveLength(CAP);
    // The least recently used ones (sessions 2..7) ended; the refreshed first one did not. Every
    // instance, this one included, learns an eviction from its revocation poll (the 5-second rule).
    await pollUntil(async () => codeOf(await server.gql(ME, {}, tokens[6])), (code) => code === 'UNAUTHENTICATED', { timeoutMs: 5000 });
    const ended = tokens.slice(1, 7);
    expect(ended).toHaveLength(6);
    for (const token of ended) expect(codeOf(await server.gql(ME, {}, token))).toBe('UNAUTHENTICATED');
    expect((await server.gql(ME, {}, tokens[7])).data?.me?.id).toBe(account.id);
    expect((await server.gql(ME, {}, firstToken)).data?.me?.id).toBe(account.id);
    expect(await revocationAudits(account.id, 'session_limit')).toBe(6);
  });
});
