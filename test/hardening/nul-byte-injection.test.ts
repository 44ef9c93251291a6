import { UsersService } from '../../src/users/users.service';
import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

/**
 * Threat: PostgreSQL refuses a NUL character in text ("invalid byte sequence for encoding UTF8:
 * 0x00"), so a client that puts one in any string argument turns a normal call into an
 * INTERNAL_SERVER_ERROR with the driver's message. Every string is refused before execution as
 * BAD_USER_INPUT naming the argument or input field that holds it.
 */
const NUL = '\u0000';

let server: TestServer;
let user: TestAccount;
let admin: TestAccount;
beforeAll(async () => {
  server = await startTestServer(isolated());
  user = await registerAccount(server);
  admin = await registerAccount(server);
  await server.running.container.get(UsersService).changeRoleByEmail(admin.email, 'ADMIN', true);
});
afterAll(() => server.stop());

function refusedFields(res: GraphQLResponse<unknown>): unknown {
  return { code: codeOf(res), fields: (res.errors?.[0]?.extensions?.fields as Array<{ field: string }> | undefined)?.map((f) => f.field), data: res.data ?? null };
}

describe('a NUL character in a string argument is BAD_USER_INPUT, never a database error', () => {
  test("login's identifier (in variables)", async () => {
    const res = await server.gql(LOGIN, { input: { identifier: `${user.email}${NUL}`, password: user.password } });
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['identifier'], data: null });
    // Positive control: the same call without the NUL signs in.
    const ok = await server.gql(LOGIN, { input: { identifier: user.email, password: user.password } });
    expect(ok.data?.login.__typename).toBe('AuthPayload');
  });

  test('the same operation again, its variables clean first and then holding a NUL (the document is walked once, the variables every time)', async () => {
    const query = 'mutation($r: String!) { refreshToken(refreshToken: $r) { refreshToken } }';
    expect(codeOf(await server.gql(query, { r: 'never-issued' }))).toBe('INVALID_TOKEN');
    const res = await server.gql(query, { r: `never${NUL}issued` });
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['refreshToken'], data: null });
  });

  test("login's identifier (inline literal with a \\u0000 escape)", async () => {
    const res = await server.gql(`mutation { login(input: { identifier: "ada\\u0000x", password: "Whatever-1234" }) { __typename } }`);
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['identifier'], data: null });
    // Positive control: a backslash and "u0000" as plain text are no NUL.
    const ok = await server.gql(`mutation { login(input: { identifier: "ada\\\\u0000x", password: "Whatever-1234" }) { __typename } }`);
    expect(codeOf(ok)).toBe('INVALID_CREDENTIALS');
  });

  test("users' search (an administrator's query argument)", async () => {
    const res = await server.gql(operation('Users'), { first: 5, search: `exa${NUL}mple` }, admin.accessToken);
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['search'], data: null });
    const ok = await server.gql(operation('Users'), { first: 5, search: 'example' }, admin.accessToken);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.users.nodes.length).toBeGreaterThan(0);
  });

  test("revokeSession's id (a variable named differently from its argument)", async () => {
    const res = await server.gql('mutation($sessionToEnd: ID!) { revokeSession(id: $sessionToEnd) }', { sessionToEnd: `x${NUL}` }, user.accessToken);
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['id'], data: null });
  });

  test('refreshToken, registration fields and a default value of a variable', async () => {
    expect(refusedFields(await server.gql(operation('RefreshToken'), { refreshToken: `a${NUL}b` }))).toEqual({ code: 'BAD_USER_INPUT', fields: ['refreshToken'], data: null });
    const register = await server.gql(operation('Register'), { input: { email: 'nul@example.com', username: `nu${NUL}l`, password: `pass${NUL}word-strong-1` } });
    expect(refusedFields(register)).toEqual({ code: 'BAD_USER_INPUT', fields: ['username', 'password'], data: null });
    const defaulted = await server.gql('mutation($t: String! = "x\\u0000y") { refreshToken(refreshToken: $t) { accessToken } }');
    expect(refusedFields(defaulted)).toEqual({ code: 'BAD_USER_INPUT', fields: ['refreshToken'], data: null });
    // Positive control: an unknown token without a NUL is INVALID_TOKEN, as before.
    expect(codeOf(await server.gql(operation('RefreshToken'), { refreshToken: 'ab' }))).toBe('INVALID_TOKEN');
  });

  test('is answered as a client error (HTTP 400), and a request without NUL still executes', async () => {
    const res = await server.gql(LOGIN, { input: { identifier: NUL, password: NUL } });
    expect(res.status).toBe(400);
    expect(refusedFields(res)).toEqual({ code: 'BAD_USER_INPUT', fields: ['identifier', 'password'], data: null });
    const me = await server.gql(operation('Me'), {}, user.accessToken);
    expect(me.data?.me.email).toBe(user.email);
  });
});
