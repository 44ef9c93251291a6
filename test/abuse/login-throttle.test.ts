import { randomBytes } from 'node:crypto';
import { LOGIN, REGISTER, registerAccount, uniqueEmail } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { codeOf, trackedServers, type TestServer } from '../support/test-server';
import { sleep } from '../support/time';
import { isolated, login, retryAfterOf, unknownIdentifier, wrongPassword } from './abuse.helpers';

/** Contract defaults (CONTRACT.md, Abuse). */
const LOCK_AFTER = 20;
const LOCK_SECONDS = 15 * 60;
const ADDRESS_FAILURES = 100;
const ADDRESS_WINDOW_SECONDS = 15 * 60;
/** Delays start after this many failures; a value past the lock switches them off for lock tests. */
const NO_DELAYS = { LOGIN_DELAY_AFTER_FAILURES: '100' };

const start = trackedServers();
const serve = (env: Record<string, string> = {}): Promise<TestServer> => start(isolated(env));

async function fail(server: TestServer, identifier: string, times: number, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await login(server, identifier, wrongPassword(), headers);
    expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  }
}

describe('password guessing against one account', () => {
  test('locks the account for 15 minutes at the 20th failure, refusing even the right password, and audits the lock once', async () => {
    const server = await serve(NO_DELAYS);
    const account = await registerAccount(server);
    await fail(server, account.email, LOCK_AFTER);

    const refused = await login(server, account.email, account.password);
    expect(refused.status).toBe(200);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.data).toBeNull();
    const retryAfter = retryAfterOf(refused);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(LOCK_SECONDS - 30);
    expect(retryAfter).toBeLessThanOrEqual(LOCK_SECONDS);

    const types = await auditTypes(server, account.id);
    expect(types.filter((t) => t === 'login.failed')).toHaveLength(LOCK_AFTER);
    expect(types.filter((t) => t === 'login.account_locked')).toHaveLength(1);
  });

  test('does not lock before the 20th failure', async () => {
    const server = await serve(NO_DELAYS);
    const account = await registerAccount(server);
    await fail(server, account.email, LOCK_AFTER - 1);
    const res = await login(server, account.email, account.password);
    expect(res.data?.login.__typename).toBe('AuthPayload');
  });

  test('answers a locked account, a wrong password and an unknown identifier alike (no account enumeration through the lock)', async () => {
    const server = await serve(NO_DELAYS);
    const account = await registerAccount(server);
    const nobody = unknownIdentifier();
    await fail(server, account.email, LOCK_AFTER);
    await fail(server, nobody, LOCK_AFTER);

    const lockedReal = await login(server, account.email, account.password);
    const lockedUnknown = await login(server, nobody, wrongPassword());
    const strip = (res: typeof lockedReal) => ({
      status: res.status,
      data: res.data,
      errors: res.errors?.map((e) => ({ ...e, extensions: { ...e.extensions, retryAfter: typeof e.extensions?.retryAfter } })),
    });
    expect(codeOf(lockedUnknown)).toBe('RATE_LIMITED');
    expect(strip(lockedUnknown)).toEqual(strip(lockedReal));
  });

  test('case-folds the identifier, so changing its case does not buy a fresh budget', async () => {
    const server = await serve(NO_DELAYS);
    const account = await registerAccount(server);
    for (let i = 0; i < LOCK_AFTER; i++) {
      const variant = [...account.email].map((c) => (Math.random() < 0.5 ? c.toUpperCase() : c)).join('');
      expect(codeOf(await login(server, `  ${variant} `, wrongPassword()))).toBe('INVALID_CREDENTIALS');
    }
    expect(codeOf(await login(server, account.email, account.password))).toBe('RATE_LIMITED');
  });

  test('counts failures per account whatever address they come from', async () => {
    const server = await serve({ ...NO_DELAYS, TRUST_PROXY: '1' });
    const account = await registerAccount(server);
    for (let i = 0; i < LOCK_AFTER; i++) {
      await fail(server, account.email, 1, { 'x-forwarded-for': `198.51.100.${i + 1}` });
    }
    const res = await login(server, account.email, account.password, { 'x-forwarded-for': '198.51.100.200' });
    expect(codeOf(res)).toBe('RATE_LIMITED');
  });

  test('a successful login resets the failure count', async () => {
    const server = await serve({ ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '3' });
    const account = await registerAccount(server);
    for (let round = 0; round < 3; round++) {
      await fail(server, account.email, 2);
      expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
    }
  });

  test('a password re-check that succeeds (changePassword) also resets the count', async () => {
    const server = await serve({ ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '3' });
    const account = await registerAccount(server);
    const change = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    let password = account.password;
    for (let round = 0; round < 3; round++) {
      const next = `N3w-${randomBytes(8).toString('hex')}`;
      const res = await server.gql(change, { c: password, n: next }, account.accessToken);
      expect(res.data?.changePassword).toBe(true);
      password = next;
    }
    expect((await login(server, account.email, password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('makes a guesser wait growing delays after 5 failures, before the password is even checked', async () => {
    const server = await serve();
    const account = await registerAccount(server);
    await fail(server, account.email, 5);

    // Held for 2^0 s: even the right password is refused without being checked.
    const held = await login(server, account.email, account.password);
    expect(codeOf(held)).toBe('RATE_LIMITED');
    expect(retryAfterOf(held)).toBe(1);

    await sleep(1100);
    await fail(server, account.email, 1); // 6th failure: 2^1 s
    const second = await login(server, account.email, wrongPassword());
    expect(codeOf(second)).toBe('RATE_LIMITED');
    expect(retryAfterOf(second)).toBe(2);

    await sleep(2100);
    await fail(server, account.email, 1); // 7th failure: 2^2 s
    expect(retryAfterOf(await login(server, account.email, account.password))).toBe(4);

    // Attempts refused by a delay were not failures: 7 failures recorded, no lock.
    const types = await auditTypes(server, account.id);
    expect(types.filter((t) => t === 'login.failed')).toHaveLength(7);
    expect(types).not.toContain('login.account_locked');
  });

  test('a burst of parallel guesses gets no more checks than the lock allows', async () => {
    const server = await serve({ ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '5' });
    const account = await registerAccount(server);
    const results = await Promise.all(Array.from({ length: 30 }, () => login(server, account.email, wrongPassword())));
    const checked = results.filter((r) => codeOf(r) === 'INVALID_CREDENTIALS').length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(results.filter((r) => codeOf(r) === 'RATE_LIMITED').length).toBe(30 - checked);
    expect(codeOf(await login(server, account.email, account.password))).toBe('RATE_LIMITED');
  });
});

describe('password guessing from one address', () => {
  test('an address gets 100 failures per 15 minutes, across any identifiers', async () => {
    const server = await serve({ TRUST_PROXY: '1' });
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    const account = await registerAccount(server);
    for (let i = 0; i < ADDRESS_FAILURES; i++) {
      expect(codeOf(await login(server, unknownIdentifier(), wrongPassword(), attacker))).toBe('INVALID_CREDENTIALS');
    }
    const refused = await login(server, account.email, account.password, attacker);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(retryAfterOf(refused)).toBeGreaterThan(ADDRESS_WINDOW_SECONDS - 120);
    expect(retryAfterOf(refused)).toBeLessThanOrEqual(ADDRESS_WINDOW_SECONDS);

    // Another address is not affected.
    const other = await login(server, account.email, account.password, { 'x-forwarded-for': '203.0.113.8' });
    expect(other.data?.login.__typename).toBe('AuthPayload');
  });

  test('successful logins do not spend the address budget', async () => {
    const server = await serve({ IP_FAILURES_PER_WINDOW: '3' });
    const account = await registerAccount(server);
    await fail(server, unknownIdentifier(), 2);
    for (let i = 0; i < 5; i++) expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
    await fail(server, unknownIdentifier(), 1);
    expect(codeOf(await login(server, unknownIdentifier(), wrongPassword()))).toBe('RATE_LIMITED');
  });

  test('ignores a spoofed X-Forwarded-For by default: the socket address is the client', async () => {
    const server = await serve({ IP_FAILURES_PER_WINDOW: '3' });
    for (let i = 0; i < 3; i++) await fail(server, unknownIdentifier(), 1, { 'x-forwarded-for': `192.0.2.${i + 1}` });
    const spoofed = await login(server, unknownIdentifier(), wrongPassword(), { 'x-forwarded-for': '192.0.2.99' });
    expect(codeOf(spoofed)).toBe('RATE_LIMITED');

    // The address recorded for a session is the socket's too.
    const other = await serve();
    const account = await registerAccount(other);
    const res = await login(other, account.email, account.password, { 'x-forwarded-for': '192.0.2.50' });
    const sessions = await other.gql('{ sessions { ipAddress current } }', {}, res.data?.login.accessToken);
    const current = sessions.data?.sessions.find((s: { current: boolean }) => s.current);
    expect(current.ipAddress).toBe('127.0.0.1');
  });
});

describe('credential fields in one document', () => {
  test('counts every login an aliased document executes as an attempt, and execution stops at the first failure', async () => {
    const server = await serve({ ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '2' });
    const account = await registerAccount(server);
    const other = await registerAccount(server);
    const three = `mutation($a: LoginInput!, $b: LoginInput!, $c: LoginInput!) {
      a: login(input: $a) { __typename } b: login(input: $b) { __typename } c: login(input: $c) { __typename }
    }`;
    const right = { identifier: other.email, password: other.password };
    const wrong = () => ({ identifier: account.email, password: wrongPassword() });

    // login is non-null: the first failure ends the (serial) mutation, so later aliases never run.
    const allWrong = await server.gql(three, { a: wrong(), b: wrong(), c: wrong() });
    expect(allWrong.data).toBeNull();
    expect(codeOf(allWrong)).toBe('INVALID_CREDENTIALS');
    expect((await auditTypes(server, account.id)).filter((t) => t === 'login.failed')).toHaveLength(1);

    // A guess behind aliases that succeed is still counted: this one locks the account.
    const behind = await server.gql(three, { a: right, b: right, c: wrong() });
    expect(codeOf(behind)).toBe('INVALID_CREDENTIALS');
    expect((await auditTypes(server, account.id)).filter((t) => t === 'login.failed')).toHaveLength(2);
    expect(codeOf(await login(server, account.email, account.password))).toBe('RATE_LIMITED');
  });

  test('refuses a document with more than 3 login fields before any password is checked', async () => {
    const server = await serve({ ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '3' });
    const account = await registerAccount(server);
    const fields = Array.from({ length: 4 }, (_, i) => `l${i}: login(input: { identifier: "${account.email}", password: "${wrongPassword()}" }) { __typename }`);
    const res = await server.gql(`mutation { ${fields.join(' ')} }`);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await auditTypes(server, account.id)).not.toContain('login.failed');

    // Hidden in a fragment, or mixed with other credential fields: the same.
    const viaFragment = await server.gql(`mutation { ...F } fragment F on Mutation { ${fields.join(' ')} }`);
    expect(codeOf(viaFragment)).toBe('GRAPHQL_VALIDATION_FAILED');
    const mixed = await server.gql(
      `mutation { ${fields.slice(0, 3).join(' ')} r: register(input: { email: "${uniqueEmail()}", password: "${wrongPassword()}" }) { accessToken } }`,
    );
    expect(codeOf(mixed)).toBe('GRAPHQL_VALIDATION_FAILED');

    // Nothing was counted: the right password still works.
    expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('allows the configured number of credential fields', async () => {
    const server = await serve();
    const account = await registerAccount(server);
    const res = await server.gql(
      `mutation($i: LoginInput!) { a: login(input: $i) { __typename } b: login(input: $i) { __typename } c: login(input: $i) { __typename } }`,
      { i: { identifier: account.email, password: account.password } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.c.__typename).toBe('AuthPayload');
  });
});

describe('mass registration', () => {
  test('limits registrations per address', async () => {
    const server = await serve({ REGISTRATIONS_PER_WINDOW: '2' });
    await registerAccount(server);
    await registerAccount(server);
    const email = uniqueEmail();
    const password = `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
    const refused = await server.gql(REGISTER, { input: { email, password } });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(retryAfterOf(refused)).toBeGreaterThan(3000);
    // No account was created.
    expect(codeOf(await server.gql(LOGIN, { input: { identifier: email, password } }))).toBe('INVALID_CREDENTIALS');
  });
});
