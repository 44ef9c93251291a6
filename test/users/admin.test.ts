import { registerAccount, type TestAccount } from '../support/accounts';
import { cli } from '../support/cli';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';

const USERS = 'query($first: Int, $after: String, $search: String) { users(first: $first, after: $after, search: $search) { nodes { id email roles } pageInfo { endCursor hasNextPage } totalCount } }';
const SET_ROLES = 'mutation($userId: ID!, $roles: [Role!]!) { setUserRoles(userId: $userId, roles: $roles) { id roles } }';

let server: TestServer;
let admin: TestAccount;

beforeAll(async () => {
  server = await startTestServer();
  admin = await registerAccount(server);
  const granted = await cli('grant-role', admin.email, 'ADMIN');
  expect(granted).toMatchObject({ code: 0, stdout: `${admin.email}: roles USER, ADMIN\n` });
});
afterAll(() => server.stop());

describe('role guards', () => {
  test('users without a token is UNAUTHENTICATED, not FORBIDDEN', async () => {
    expect(codeOf(await server.gql(USERS))).toBe('UNAUTHENTICATED');
  });

  test('users with a USER token is FORBIDDEN', async () => {
    const user = await registerAccount(server);
    const res = await server.gql(USERS, {}, user.accessToken);
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(res.data).toBeNull();
  });

  test('setUserRoles with a USER token is FORBIDDEN and changes nothing', async () => {
    const user = await registerAccount(server);
    const res = await server.gql(SET_ROLES, { userId: user.id, roles: ['USER', 'ADMIN'] }, user.accessToken);
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(USERS, {}, user.accessToken))).toBe('FORBIDDEN');
  });

  test('an ADMIN granted by the CLI can list users (the role is read as it is now, not from the old token)', async () => {
    const res = await server.gql(USERS, { first: 5 }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    expect(res.data!.users.totalCount).toBeGreaterThanOrEqual(1);
  });

  test('an administrator demoted by another loses access at once: the token is refused (its sessions end)', async () => {
    const second = await registerAccount(server);
    expect((await server.gql(SET_ROLES, { userId: second.id, roles: ['ADMIN', 'USER'] }, admin.accessToken)).data!.setUserRoles.roles).toEqual(['USER', 'ADMIN']);
    expect(codeOf(await server.gql(USERS, {}, second.accessToken))).toBeUndefined();
    await server.gql(SET_ROLES, { userId: second.id, roles: ['USER'] }, admin.accessToken);
    expect(codeOf(await server.gql(USERS, {}, second.accessToken))).toBe('UNAUTHENTICATED');
    const audit: Array<{ data: { from: string[]; to: string[] } }> = await server.running.services.dataSource.query(
      `SELECT data FROM audit_events WHERE type = 'user.roles_changed' AND user_id = $1 ORDER BY id`,
      [second.id],
    );
    expect(audit.map((a) => a.data.to)).toEqual([['USER', 'ADMIN'], ['USER']]);
  });

  test('an administrator cannot remove their own ADMIN role', async () => {
    const res = await server.gql(SET_ROLES, { userId: admin.id, roles: ['USER'] }, admin.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });

  test('setUserRoles refuses an unknown user and an empty role list with BAD_USER_INPUT', async () => {
    expect(codeOf(await server.gql(SET_ROLES, { userId: '00000000-0000-4000-8000-000000000000', roles: ['USER'] }, admin.accessToken))).toBe('BAD_USER_INPUT');
    const user = await registerAccount(server);
    expect(codeOf(await server.gql(SET_ROLES, { userId: user.id, roles: [] }, admin.accessToken))).toBe('BAD_USER_INPUT');
  });

  test('an unknown role is refused by GraphQL validation before any resolver runs', async () => {
    const res = await server.gql(SET_ROLES, { userId: admin.id, roles: ['ROOT'] }, admin.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });
});

describe('users', () => {
  test('pages through every account with cursors, without gaps or repeats', async () => {
    const tag = `page${Date.now().toString(36)}`;
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await registerAccount(server, { email: `${tag}-${i}@example.com` }));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res: { data?: Record<string, any> | null } = await server.gql(USERS, { first: 2, after, search: tag }, admin.accessToken);
      const conn = res.data!.users;
      expect(conn.totalCount).toBe(5);
      seen.push(...conn.nodes.map((n: { email: string }) => n.email));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(created.map((c) => c.email));
  });

  test('search matches email or username, case-insensitively, and treats % and _ literally', async () => {
    const account = await registerAccount(server, { username: `Zed_${Date.now().toString(36)}` });
    const byName = await server.gql(USERS, { search: account.username.toUpperCase() }, admin.accessToken);
    expect(byName.data!.users.nodes.map((n: { id: string }) => n.id)).toEqual([account.id]);
    const wildcard = await server.gql(USERS, { search: '%' }, admin.accessToken);
    expect(wildcard.data!.users.totalCount).toBe(0);
  });

  test.each([[0], [101], [-1]])('refuses first: %p with BAD_USER_INPUT on first', async (first) => {
    const res = await server.gql(USERS, { first }, admin.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.fields).toEqual([{ field: 'first', message: expect.any(String) }]);
  });

  test('refuses a forged cursor with BAD_USER_INPUT', async () => {
    const res = await server.gql(USERS, { after: "eyJpZCI6Ij8nOyBEUk9QIFRBQkxFIHVzZXJzOyJ9" }, admin.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });
});

describe('cli', () => {
  test('revoke-role takes a role away', async () => {
    const user = await registerAccount(server);
    expect((await cli('grant-role', user.email, 'ADMIN')).code).toBe(0);
    const revoked = await cli('revoke-role', user.email.toUpperCase(), 'ADMIN');
    expect(revoked).toMatchObject({ code: 0, stdout: `${user.email}: roles USER (1 session ended)\n` });
  });

  test('fails with one clear line for an unknown account', async () => {
    const res = await cli('grant-role', 'nobody-here@example.com', 'ADMIN');
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toEqual(['bouncer cli: no account with email "nobody-here@example.com"']);
  });

  test('fails with one clear line for an unknown role', async () => {
    const res = await cli('grant-role', admin.email, 'SUPERUSER');
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toEqual(['bouncer cli: unknown role "SUPERUSER" (roles: USER, ADMIN)']);
  });

  test('prints its usage and fails without arguments', async () => {
    const res = await cli();
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('grant-role EMAIL ROLE');
  });
});
