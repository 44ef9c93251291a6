import { Client } from 'pg';
import { isolated, login } from '../abuse/abuse.helpers';
import { OPS } from '../admin/admin.helpers';
import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type GraphQLResponse, type TestServer } from '../support/test-server';
import { pollUntil } from '../support/time';
import { claimsOf } from '../support/tokens';
import { challenge, enrol, verify } from '../two-factor/two-factor.helpers';

/**
 * Threat: a login overlapping a demotion mints a token that still says ADMIN, for a session the
 * demotion never ended. The login read the roles with the account, before its password check; a
 * demotion committing between that read and the session's insert ended only the sessions that
 * existed then. Other services trust the `roles` claim (JWKS) until the token expires.
 *
 * Staged deterministically on the real database: the test holds the account's session-open lock
 * (the advisory lock session_open_slot takes), so the login waits at its session's insert; the
 * demotion commits meanwhile; the lock is let go. The opening now reads the roles itself, the
 * account's row share-locked after that lock, so it sees the demotion. An administrator's lock
 * overlapping a login is seen the same way (ACCOUNT_LOCKED, no session).
 */
const ME = operation('Me');
const SET_ROLES = operation('SetUserRoles');
const OPEN_LOCK_CLASS = 24149; // session_open_slot's advisory lock space (src/sessions/migrations)

let admin: TestAccount;
let servers: Record<'underCap' | 'atCap', TestServer>;
let db: Client;

beforeAll(async () => {
  servers = {
    underCap: await startTestServer(isolated()),
    // One session per account: the register's session is there, so every login trims (the other opening path).
    atCap: await startTestServer(isolated({ SESSION_MAX_PER_USER: '1' })),
  };
  admin = await registerAccount(servers.underCap);
  await servers.underCap.running.services.dataSource.query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE id = $1`, [admin.id]);
  db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await Promise.all(Object.values(servers ?? {}).map((s) => s.stop()));
});

async function adminAccount(server: TestServer): Promise<TestAccount> {
  const account = await registerAccount(server);
  await db.query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE id = $1`, [account.id]);
  return account;
}

type Answer = GraphQLResponse<Record<string, any>>;

/**
 * Runs a login of `account` that waits at its session's opening while `meanwhile` runs, then lets
 * it go on; returns the login's answer.
 */
function loginAcross(server: TestServer, account: TestAccount, meanwhile: () => Promise<void>): Promise<Answer> {
  return across(account, () => login(server, account.email, account.password), meanwhile);
}

/** Sends `request` (a sign-in of `account`), holds it at its session's opening while `meanwhile` runs, then lets it go on. */
async function across(account: TestAccount, request: () => Promise<Answer>, meanwhile: () => Promise<void>): Promise<Answer> {
  await db.query('SELECT pg_advisory_lock($1, hashtext($2))', [OPEN_LOCK_CLASS, account.id]);
  let answer: Promise<Answer>;
  try {
    answer = request();
    const waiting = await pollUntil(
      async () =>
        (
          await db.query(
            `SELECT count(*)::int AS n FROM pg_locks
              WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND classid = $1 AND objid::text::bigint = (hashtext($2)::bigint + 4294967296) % 4294967296 AND objsubid = 2`,
            [OPEN_LOCK_CLASS, account.id],
          )
        ).rows[0].n,
      (n: number) => n > 0,
      { timeoutMs: 10_000 },
    );
    expect(waiting.value).toBeGreaterThan(0); // the login is past its password check, at the opening
    await meanwhile();
  } finally {
    await db.query('SELECT pg_advisory_unlock($1, hashtext($2))', [OPEN_LOCK_CLASS, account.id]);
  }
  return answer;
}

describe.each(['underCap', 'atCap'] as const)('a login overlapping a demotion (%s)', (which) => {
  test('the token claims the roles as the demotion left them, and is accepted as such', async () => {
    const server = servers[which];
    const demoted = await adminAccount(server);
    const res = await loginAcross(server, demoted, async () => {
      const set = await server.gql(SET_ROLES, { userId: demoted.id, roles: ['USER'] }, admin.accessToken);
      expect(set.data?.setUserRoles.roles).toEqual(['USER']);
    });
    const token = res.data?.login.accessToken as string;
    expect(claimsOf(token).roles).toEqual(['USER']);
    expect(res.data?.login.user.roles).toEqual(['USER']);
    expect((await server.gql(ME, {}, token)).data?.me.roles).toEqual(['USER']);
  });

  test('positive control: the same overlapping login without a demotion keeps ADMIN', async () => {
    const server = servers[which];
    const kept = await adminAccount(server);
    const res = await loginAcross(server, kept, async () => undefined);
    const token = res.data?.login.accessToken as string;
    expect(claimsOf(token).roles).toEqual(['USER', 'ADMIN']);
    expect((await server.gql(ME, {}, token)).data?.me.roles).toEqual(['USER', 'ADMIN']);
  });

  test('an administrator lock overlapping the login: ACCOUNT_LOCKED, and no session is left open', async () => {
    const server = servers[which];
    const target = await registerAccount(server);
    const res = await loginAcross(server, target, async () => {
      expect((await server.gql(OPS.lockUser, { userId: target.id }, admin.accessToken)).data?.lockUser.lockedAt).toEqual(expect.any(String));
    });
    expect(codeOf(res)).toBe('ACCOUNT_LOCKED');
    const live = await db.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [target.id]);
    expect(live.rows[0].n).toBe(0);
  });
});

/** The 2FA step opens its session in its own one statement (src/sign-in/sign-in.service.ts, answerFast): the same race. */
describe('a second step (TOTP) overlapping a demotion', () => {
  async function twoFactorAdmin(server: TestServer) {
    const account = await adminAccount(server);
    const { authenticator } = await enrol(server, account);
    return { account, authenticator, challengeToken: await challenge(server, account) };
  }

  test('the token claims the roles as the demotion left them', async () => {
    const server = servers.underCap;
    const { account, authenticator, challengeToken } = await twoFactorAdmin(server);
    const code = await authenticator.next();
    const res = await across(account, () => verify(server, challengeToken, code), async () => {
      const set = await server.gql(SET_ROLES, { userId: account.id, roles: ['USER'] }, admin.accessToken);
      expect(set.data?.setUserRoles.roles).toEqual(['USER']);
    });
    const token = res.data?.verifyTwoFactor.accessToken as string;
    expect(claimsOf(token).roles).toEqual(['USER']);
    expect((await server.gql(ME, {}, token)).data?.me.roles).toEqual(['USER']);
  });

  test('positive control: the same overlapping step without a demotion keeps ADMIN', async () => {
    const server = servers.underCap;
    const { account, authenticator, challengeToken } = await twoFactorAdmin(server);
    const code = await authenticator.next();
    const res = await across(account, () => verify(server, challengeToken, code), async () => undefined);
    expect(claimsOf(res.data?.verifyTwoFactor.accessToken as string).roles).toEqual(['USER', 'ADMIN']);
  });
});
