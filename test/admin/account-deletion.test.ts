import { randomBytes } from 'node:crypto';
import { isolated } from '../abuse/abuse.helpers';
import { RevocationWatcher } from '../../src/sessions/revocation-watcher';
import { REGISTER, registerAccount, uniqueEmail, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { enrol } from '../two-factor/two-factor.helpers';
import { OPS, registerAdmin, sessionOf } from './admin.helpers';

let server: TestServer;
let admin: TestAccount;
const ADMIN_ADDRESS = '198.51.100.5';

beforeAll(async () => {
  // One proxy hop is believed: each test client gets an address of its own through X-Forwarded-For.
  server = await startTestServer(isolated({ TRUST_PROXY: '1' }));
  admin = await registerAdmin(server);
});
afterAll(() => server.stop());

const db = () => server.running.services.dataSource;
const asAdmin = { 'x-forwarded-for': ADMIN_ADDRESS };

/** A person with an address and a browser of their own, and traces of them in every table. */
async function person(): Promise<{ account: TestAccount; address: string; agent: string; headers: Record<string, string> }> {
  const address = `203.0.113.${10 + (randomBytes(1)[0] % 200)}`;
  const agent = `Browser-${randomBytes(6).toString('hex')}`;
  const headers = { 'x-forwarded-for': address, 'user-agent': agent };
  const email = uniqueEmail('erase');
  const password = `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
  const reg = await server.gql(REGISTER, { input: { email, password } }, undefined, headers);
  const account = { id: reg.data!.register.user.id, email, username: '', password, accessToken: reg.data!.register.accessToken, refreshToken: reg.data!.register.refreshToken };
  await server.gql(OPS.login, { input: { identifier: email, password: 'Not-the-password-1' } }, undefined, headers);
  const again = await server.gql(OPS.login, { input: { identifier: email, password } }, undefined, headers);
  await server.gql(OPS.refresh, { refreshToken: again.data!.login.refreshToken }, undefined, headers);
  // An event whose data names the person (as an email-change event would).
  await db().query(`INSERT INTO audit_events (type, user_id, data) VALUES ('user.locked', $1, $2)`, [
    account.id,
    { newEmail: email, clientIp: address, ipAddress: address, agentSeen: agent, note: 'kept', by: 'cli' },
  ]);
  return { account, address, agent, headers };
}

async function auditTableText(): Promise<string> {
  const rows = await db().query('SELECT * FROM audit_events');
  return JSON.stringify(rows);
}

async function leftovers(userId: string): Promise<Record<string, number>> {
  const [row] = await db().query(
    `SELECT (SELECT count(*) FROM users WHERE id = $1)::int AS users,
            (SELECT count(*) FROM sessions WHERE user_id = $1)::int AS sessions,
            (SELECT count(*) FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1)::int AS refresh_tokens,
            (SELECT count(*) FROM recovery_codes WHERE user_id = $1)::int AS recovery_codes,
            (SELECT count(*) FROM two_factor_challenges WHERE user_id = $1)::int AS challenges`,
    [userId],
  );
  return row;
}

describe('a deleted user\'s email or address left in audit rows', () => {
  test('deleteUser: the audit rows stay, keyed by id, with no email, address or user agent of the person', async () => {
    const { account, address, agent } = await person();
    const before = await auditTableText();
    expect(before).toContain(address); // positive control: the traces were there
    expect(before).toContain(agent);
    expect(before).toContain(account.email);

    const res = await server.gql(OPS.deleteUser, { userId: account.id }, admin.accessToken, asAdmin);
    expect(res.data!.deleteUser).toBe(true);

    const after = await auditTableText();
    expect(after).not.toContain(address);
    expect(after).not.toContain(agent);
    expect(after).not.toContain(account.email);
    const rows: Array<{ type: string; ip_address: string | null; user_agent: string | null; data: Record<string, unknown> }> = await db().query(
      'SELECT type, ip_address, user_agent, data FROM audit_events WHERE user_id = $1 ORDER BY id',
      [account.id],
    );
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['user.registered', 'login.failed', 'login.succeeded', 'user.deleted']));
    expect(rows.find((r) => r.data.note === 'kept')!.data).toEqual({ note: 'kept', by: 'cli' });
    // The administrator's own action keeps the administrator's address.
    expect(rows[rows.length - 1]).toMatchObject({ type: 'user.deleted', ip_address: ADMIN_ADDRESS, data: { by: admin.id } });
    expect(rows.slice(0, -1).every((r) => r.ip_address === null && r.user_agent === null)).toBe(true);
    expect(await leftovers(account.id)).toEqual({ users: 0, sessions: 0, refresh_tokens: 0, recovery_codes: 0, challenges: 0 });
  });

  test('deleteMyAccount: the same, and the deletion event itself holds nothing of the person', async () => {
    const { account, address, agent, headers } = await person();
    const res = await server.gql(OPS.deleteMyAccount, { password: account.password }, account.accessToken, headers);
    expect(res.errors).toBeUndefined();
    const after = await auditTableText();
    for (const trace of [address, agent, account.email]) expect(after).not.toContain(trace);
    const [deleted] = await db().query(`SELECT ip_address, user_agent, data FROM audit_events WHERE user_id = $1 AND type = 'user.deleted'`, [account.id]);
    expect(deleted).toEqual({ ip_address: null, user_agent: null, data: { by: 'self' } });
  });
});

describe('deleteMyAccount', () => {
  test('re-checks the password: missing is BAD_USER_INPUT, wrong is INVALID_CREDENTIALS, and the account stays', async () => {
    const user = await registerAccount(server);
    const missing = await server.gql(OPS.deleteMyAccount, {}, user.accessToken);
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors![0].extensions!.fields).toEqual([{ field: 'password', message: expect.any(String) }]);
    expect(codeOf(await server.gql(OPS.deleteMyAccount, { password: `${user.password}x` }, user.accessToken))).toBe('INVALID_CREDENTIALS');
    expect((await leftovers(user.id)).users).toBe(1);
    expect(codeOf(await server.gql(OPS.deleteMyAccount, { password: user.password }))).toBe('UNAUTHENTICATED');

    expect((await server.gql(OPS.deleteMyAccount, { password: user.password }, user.accessToken)).data!.deleteMyAccount).toBe(true);
    // Its access token is refused at once, and the credentials are gone.
    expect(codeOf(await server.gql(OPS.me, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(OPS.login, { input: { identifier: user.email, password: user.password } }))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await server.gql(OPS.refresh, { refreshToken: user.refreshToken }))).toBe('INVALID_TOKEN');
    expect(server.running.container.get(RevocationWatcher).isRevoked(sessionOf(user.accessToken))).toBe(true);
  });

  test('with 2FA on a code is required and spent: none is BAD_USER_INPUT, a wrong one INVALID_TWO_FACTOR_CODE; everything goes', async () => {
    const user = await registerAccount(server);
    const { authenticator } = await enrol(server, user);
    const none = await server.gql(OPS.deleteMyAccount, { password: user.password }, user.accessToken);
    expect(codeOf(none)).toBe('BAD_USER_INPUT');
    expect(none.errors![0].extensions!.fields).toEqual([{ field: 'code', message: expect.any(String) }]);
    expect(codeOf(await server.gql(OPS.deleteMyAccount, { password: user.password, code: '000000' }, user.accessToken))).toBe('INVALID_TWO_FACTOR_CODE');
    expect(await leftovers(user.id)).toMatchObject({ users: 1, recovery_codes: 10 });

    const ok = await server.gql(OPS.deleteMyAccount, { password: user.password, code: await authenticator.next() }, user.accessToken);
    expect(ok.errors).toBeUndefined();
    expect(await leftovers(user.id)).toEqual({ users: 0, sessions: 0, refresh_tokens: 0, recovery_codes: 0, challenges: 0 });
  });
});

