import { randomBytes } from 'node:crypto';
import { LOGIN, REGISTER, registerAccount, uniqueEmail } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const strongPassword = () => `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;

async function register(input: Record<string, unknown>) {
  return server.gql(REGISTER, { input });
}

async function login(identifier: string, password: string) {
  return server.gql(LOGIN, { input: { identifier, password } });
}

describe('register', () => {
  test('creates an account with the USER role, a trimmed lower-cased email and a session', async () => {
    const email = uniqueEmail('Mixed').toUpperCase();
    const res = await register({ email: `  ${email}  `, password: strongPassword(), username: `Name_${randomBytes(3).toString('hex')}` });
    expect(res.errors).toBeUndefined();
    const payload = res.data!.register;
    expect(payload.user).toMatchObject({ email: email.toLowerCase(), roles: ['USER'], twoFactorEnabled: false, emailVerified: false });
    expect(payload.tokenType).toBe('Bearer');
    expect(payload.expiresIn).toBeGreaterThan(0);
    expect(Buffer.from(payload.refreshToken, 'base64url').length).toBeGreaterThanOrEqual(32);
    const sessions = await server.gql('{ sessions { id current } }', {}, payload.accessToken);
    expect(sessions.data!.sessions).toEqual([{ id: expect.any(String), current: true }]);
  });

  test('refuses an email already registered, in any case, with EMAIL_TAKEN', async () => {
    const account = await registerAccount(server);
    const res = await register({ email: account.email.toUpperCase(), password: strongPassword() });
    expect(codeOf(res)).toBe('EMAIL_TAKEN');
  });

  test('refuses a username already taken, in any case, with USERNAME_TAKEN', async () => {
    const account = await registerAccount(server);
    const res = await register({ email: uniqueEmail(), password: strongPassword(), username: account.username.toUpperCase() });
    expect(codeOf(res)).toBe('USERNAME_TAKEN');
  });

  test.each([
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['a too short password', { password: 'Ab1!x' }, 'password'],
    ['a password over 256 characters', { password: 'x'.repeat(257) }, 'password'],
    ['a common password', { password: 'password123' }, 'password'],
    ['a common password in other case', { password: 'PassWord123' }, 'password'],
    ['an invalid username', { username: 'no spaces allowed' }, 'username'],
    ['a too short username', { username: 'ab' }, 'username'],
  ])('refuses %s with BAD_USER_INPUT naming the field', async (_label, override, field) => {
    const res = await register({ email: uniqueEmail(), password: strongPassword(), ...override });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.fields).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
  });

  test('refuses a password that contains the email local part', async () => {
    const local = `alice${randomBytes(3).toString('hex')}`;
    const res = await register({ email: `${local}@example.com`, password: `My-${local.toUpperCase()}-2024!` });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.fields).toEqual([{ field: 'password', message: expect.stringContaining('email') }]);
  });

  test('refuses a password that contains the username', async () => {
    const username = `bob${randomBytes(3).toString('hex')}`;
    const res = await register({ email: uniqueEmail(), username, password: `zz-${username}-zz!` });
    expect(res.errors![0].extensions!.fields).toEqual([{ field: 'password', message: expect.stringContaining('username') }]);
  });

  test('reports every invalid field at once', async () => {
    const res = await register({ email: 'nope', password: 'short', username: '!' });
    const fields = (res.errors![0].extensions!.fields as Array<{ field: string }>).map((f) => f.field).sort();
    expect(fields).toEqual(['email', 'password', 'username']);
  });

  test('accepts any Unicode and counts length after NFKC normalisation', async () => {
    // Eight fullwidth letters are eight characters after NFKC, and the emoji are allowed.
    const password = 'ｚｑｘｊｋｖｗｙ🔑🔑';
    const account = await registerAccount(server, { password });
    expect(codeOf(await login(account.email, password))).toBeUndefined();
  });

  test('fifty concurrent registrations of one email: one succeeds, the rest get EMAIL_TAKEN, none a 500', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(Array.from({ length: 50 }, () => register({ email, password: strongPassword() })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const codes = results.map((r) => codeOf(r) ?? 'OK');
    expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
    expect(codes.filter((c) => c === 'EMAIL_TAKEN')).toHaveLength(49);
  });
});

describe('login', () => {
  test('accepts email or username as identifier, in any case', async () => {
    const account = await registerAccount(server);
    for (const identifier of [account.email, account.email.toUpperCase(), account.username, account.username.toUpperCase()]) {
      const res = await login(identifier, account.password);
      expect(res.data?.login).toMatchObject({ __typename: 'AuthPayload', user: { id: account.id } });
    }
  });

  test('answers an unknown identifier and a wrong password with the same error and message', async () => {
    const account = await registerAccount(server);
    const wrong = await login(account.email, 'Wrong-password-123');
    const unknown = await login(uniqueEmail('ghost'), 'Wrong-password-123');
    expect(codeOf(wrong)).toBe('INVALID_CREDENTIALS');
    expect(codeOf(unknown)).toBe('INVALID_CREDENTIALS');
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });

  test('does not let two passwords that share their first 72 bytes both verify (bcrypt truncation)', async () => {
    const prefix = 'p'.repeat(36) + 'é'.repeat(18); // 36 + 36 bytes = 72 bytes of UTF-8
    expect(Buffer.byteLength(prefix)).toBe(72);
    const account = await registerAccount(server, { password: `${prefix}-first-${randomBytes(3).toString('hex')}` });
    const res = await login(account.email, `${prefix}-second`);
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await login(account.email, account.password))).toBeUndefined();
  });

  test('treats NFKC-equivalent spellings of a password as the same password', async () => {
    const suffix = randomBytes(3).toString('hex');
    const account = await registerAccount(server, { password: `ﬁnancial-ｓａｆｅ-${suffix}` }); // "ﬁ" ligature, fullwidth letters
    expect(codeOf(await login(account.email, `financial-safe-${suffix}`))).toBeUndefined();
  });

  test('refuses an empty or oversized password without hashing it', async () => {
    const account = await registerAccount(server);
    expect(codeOf(await login(account.email, ''))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await login(account.email, 'x'.repeat(5000)))).toBe('INVALID_CREDENTIALS');
  });

  test('writes login success and failure to the audit table', async () => {
    const account = await registerAccount(server);
    await login(account.email, 'Wrong-password-123');
    await login(account.email, account.password);
    const rows: Array<{ type: string }> = await server.running.services.dataSource.query(
      'SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id',
      [account.id],
    );
    expect(rows.map((r) => r.type)).toEqual(['user.registered', 'user.email_verification_sent', 'login.failed', 'login.succeeded']);
  });
});

describe('changePassword', () => {
  const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';

  test('refuses a wrong current password with INVALID_CREDENTIALS', async () => {
    const account = await registerAccount(server);
    const res = await server.gql(CHANGE, { c: 'Not-the-password-1', n: strongPassword() }, account.accessToken);
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  });

  test('refuses a weak new password with BAD_USER_INPUT on newPassword', async () => {
    const account = await registerAccount(server);
    const res = await server.gql(CHANGE, { c: account.password, n: 'password1' }, account.accessToken);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.fields).toEqual([{ field: 'newPassword', message: expect.any(String) }]);
  });

  test('changes the password and revokes every other session of the user, keeping this one', async () => {
    const account = await registerAccount(server);
    const other = (await login(account.email, account.password)).data!.login;
    const next = strongPassword();
    const res = await server.gql(CHANGE, { c: account.password, n: next }, account.accessToken);
    expect(res.data).toEqual({ changePassword: true });

    expect(codeOf(await server.gql('{ me { id } }', {}, other.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql('mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }', { r: other.refreshToken }))).toBe('INVALID_TOKEN');
    expect((await server.gql('{ me { id } }', {}, account.accessToken)).data?.me).toEqual({ id: account.id });
    expect(codeOf(await login(account.email, account.password))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await login(account.email, next))).toBeUndefined();
  });

  test('requires authentication', async () => {
    expect(codeOf(await server.gql(CHANGE, { c: 'a', n: 'b' }))).toBe('UNAUTHENTICATED');
  });
});
