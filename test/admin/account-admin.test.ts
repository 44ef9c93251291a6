import { isolated } from '../abuse/abuse.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { cli, OPS, registerAdmin } from './admin.helpers';

let server: TestServer;
let admin: TestAccount;
const env = isolated();

beforeAll(async () => {
  server = await startTestServer(env);
  admin = await registerAdmin(server);
});
afterAll(() => server.stop());

const login = (account: TestAccount, password = account.password) => server.gql(OPS.login, { input: { identifier: account.email, password } });
const db = () => server.running.services.dataSource;

describe('a USER calling an admin operation', () => {
  const calls: Array<[string, (target: TestAccount) => [string, Record<string, unknown>]]> = [
    ['lockUser', (t) => [OPS.lockUser, { userId: t.id }]],
    ['unlockUser', (t) => [OPS.unlockUser, { userId: t.id }]],
    ['revokeUserSessions', (t) => [OPS.revokeUserSessions, { userId: t.id }]],
    ['deleteUser', (t) => [OPS.deleteUser, { userId: t.id }]],
    ['auditEvents', (t) => [OPS.auditEvents, { userId: t.id }]],
  ];

  test.each(calls)('%s: FORBIDDEN for a USER, UNAUTHENTICATED without a token, and nothing changes', async (field, build) => {
    const user = await registerAccount(server);
    const target = await registerAccount(server);
    const [query, variables] = build(target);
    const asUser = await server.gql(query, variables, user.accessToken);
    expect(codeOf(asUser)).toBe('FORBIDDEN');
    expect(asUser.data).toBeNull();
    expect(codeOf(await server.gql(query, variables))).toBe('UNAUTHENTICATED');
    // The target is untouched: it still signs in and its session still works.
    expect((await login(target)).data!.login.__typename).toBe('AuthPayload');
    expect(codeOf(await server.gql(OPS.me, {}, target.accessToken))).toBeUndefined();
    // Positive control: the same call by an administrator is answered.
    const asAdmin = await server.gql(query, variables, admin.accessToken);
    expect(asAdmin.errors).toBeUndefined();
    expect(asAdmin.data![field]).not.toBeNull();
  });
});

describe('lockUser / unlockUser', () => {
  test('locking ends every session at once; login and refresh say ACCOUNT_LOCKED only after a correct credential', async () => {
    const user = await registerAccount(server);
    const second = (await login(user)).data!.login;
    const res = await server.gql(OPS.lockUser, { userId: user.id, reason: 'credentials found in a paste' }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    expect(Date.parse(res.data!.lockUser.lockedAt)).toBeGreaterThan(Date.now() - 60_000);

    // The 5-second rule: this instance marked both sessions revoked when the lock committed.
    for (const token of [user.accessToken, second.accessToken]) expect(codeOf(await server.gql(OPS.me, {}, token))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(user))).toBe('ACCOUNT_LOCKED');
    expect(codeOf(await login(user, `${user.password}-wrong`))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await server.gql(OPS.refresh, { refreshToken: second.refreshToken }))).toBe('ACCOUNT_LOCKED');
    expect(codeOf(await server.gql(OPS.refresh, { refreshToken: 'not-a-token-of-this-service' }))).toBe('INVALID_TOKEN');

    const events: Array<{ type: string; data: Record<string, unknown> }> = await db().query(
      `SELECT type, data FROM audit_events WHERE user_id = $1 AND type IN ('user.locked', 'session.revoked') ORDER BY id`,
      [user.id],
    );
    expect(events[0]).toEqual({ type: 'user.locked', data: { by: admin.id, reason: 'credentials found in a paste' } });
    expect(events.slice(1).map((e) => e.data.reason)).toEqual(['account_locked', 'account_locked']);

    const unlocked = await server.gql(OPS.unlockUser, { userId: user.id }, admin.accessToken);
    expect(unlocked.data!.unlockUser.lockedAt).toBeNull();
    expect((await login(user)).data!.login.__typename).toBe('AuthPayload');
    // Sessions the lock ended stay ended.
    expect(codeOf(await server.gql(OPS.refresh, { refreshToken: second.refreshToken }))).toBe('INVALID_TOKEN');
  });

  test('a session opened for a locked account (a sign-in racing the lock) is born revoked', async () => {
    const user = await registerAccount(server);
    await server.gql(OPS.lockUser, { userId: user.id }, admin.accessToken);
    const [row]: Array<{ revoked_at: Date | null; revoked_reason: string | null }> = await db().query(
      `INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + interval '1 day') RETURNING revoked_at, revoked_reason`,
      [user.id],
    );
    expect(row.revoked_at).not.toBeNull();
    expect(row.revoked_reason).toBe('account_locked');
    // Positive control: an unlocked account's new session is live.
    const other = await registerAccount(server);
    const [live]: Array<{ revoked_at: Date | null }> = await db().query(
      `INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + interval '1 day') RETURNING revoked_at`,
      [other.id],
    );
    expect(live.revoked_at).toBeNull();
  });

  test('an administrator cannot lock or delete themself (FORBIDDEN)', async () => {
    const lock = await server.gql(OPS.lockUser, { userId: admin.id }, admin.accessToken);
    expect(codeOf(lock)).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(OPS.deleteUser, { userId: admin.id }, admin.accessToken))).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(OPS.me, {}, admin.accessToken))).toBeUndefined();
  });

  test('an unknown or malformed user id and an over-long reason are BAD_USER_INPUT', async () => {
    for (const userId of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await server.gql(OPS.lockUser, { userId }, admin.accessToken);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions!.fields).toEqual([{ field: 'userId', message: expect.any(String) }]);
    }
    const user = await registerAccount(server);
    expect(codeOf(await server.gql(OPS.lockUser, { userId: user.id, reason: 'x'.repeat(501) }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect((await login(user)).data!.login.__typename).toBe('AuthPayload');
  });
});

describe('revokeUserSessions', () => {
  test('ends every live session of the account, says how many, and leaves the account able to sign in', async () => {
    const user = await registerAccount(server);
    await login(user);
    await login(user);
    const res = await server.gql(OPS.revokeUserSessions, { userId: user.id }, admin.accessToken);
    expect(res.data!.revokeUserSessions).toBe(3);
    expect(codeOf(await server.gql(OPS.me, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    expect((await server.gql(OPS.revokeUserSessions, { userId: user.id }, admin.accessToken)).data!.revokeUserSessions).toBe(0);
    const [event]: Array<{ data: unknown }> = await db().query(`SELECT data FROM audit_events WHERE user_id = $1 AND type = 'user.sessions_revoked' ORDER BY id LIMIT 1`, [user.id]);
    expect(event.data).toEqual({ by: admin.id, count: 3 });
    expect((await login(user)).data!.login.__typename).toBe('AuthPayload');
  });
});

describe('cli', () => {
  test('lock-user and unlock-user act like the API, audited as the CLI', async () => {
    const user = await registerAccount(server);
    const locked = await cli(env, 'lock-user', user.email.toUpperCase(), 'lost', 'laptop');
    expect(locked.code).toBe(0);
    expect(locked.stdout).toMatch(new RegExp(`^${user.email}: locked at \\d{4}-`));
    expect(codeOf(await login(user))).toBe('ACCOUNT_LOCKED');
    // Another process ended the session: this instance learns it from its poll, well within 5 s.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(codeOf(await server.gql(OPS.me, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    const [event]: Array<{ data: unknown; user_agent: string }> = await db().query(`SELECT data, user_agent FROM audit_events WHERE user_id = $1 AND type = 'user.locked'`, [user.id]);
    expect(event).toEqual({ data: { by: 'cli', reason: 'lost laptop' }, user_agent: 'bouncer-cli' });
    expect(await cli(env, 'unlock-user', user.email)).toMatchObject({ code: 0, stdout: `${user.email}: unlocked\n` });
    expect((await login(user)).data!.login.__typename).toBe('AuthPayload');
  });

  test('delete-user deletes the account; an unknown email fails with one clear line', async () => {
    const user = await registerAccount(server);
    expect(await cli(env, 'delete-user', user.email)).toMatchObject({ code: 0, stdout: `${user.email}: deleted\n` });
    expect(await db().query('SELECT id FROM users WHERE id = $1', [user.id])).toEqual([]);
    const unknown = await cli(env, 'lock-user', 'nobody-at-all@example.com');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toEqual(['bouncer cli: no account with email "nobody-at-all@example.com"']);
  });

  test('every account command prints its usage when the email is missing', async () => {
    for (const command of ['lock-user', 'unlock-user', 'delete-user', 'export-user']) {
      const res = await cli(env, command);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`${command} EMAIL`);
    }
  });
});
