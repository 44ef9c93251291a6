import { isolated } from '../abuse/abuse.helpers';
import { ModulesToken } from '../../src/app/tokens';
import { startBouncer } from '../../src/app/bootstrap';
import { loadConfig } from '../../src/app/config';
import { defineModule, type FeatureModule } from '../../src/module';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, postGraphQL, startTestServer, testEnv, type TestServer } from '../support/test-server';
import { challenge, enrol } from '../two-factor/two-factor.helpers';
import { cli, OPS } from './admin.helpers';

let server: TestServer;
const env = isolated();

beforeAll(async () => {
  server = await startTestServer(env);
});
afterAll(() => server.stop());

const db = () => server.running.services.dataSource;

/** An account with something in every table, and every secret the service ever gave it or keeps for it. */
async function busyAccount(): Promise<{ account: TestAccount; secrets: string[] }> {
  const account = await registerAccount(server);
  const { setup, recoveryCodes } = await enrol(server, account);
  const challengeToken = await challenge(server, account); // a pending second step
  const refreshed = (await server.gql(OPS.refresh, { refreshToken: account.refreshToken })).data!.refreshToken;
  await server.gql(OPS.login, { input: { identifier: account.email, password: 'Not-the-password-9' } });
  const [stored] = await db().query('SELECT password_hash, totp_secret_enc FROM users WHERE id = $1', [account.id]);
  const hashes: Array<{ h: string }> = await db().query(
    `SELECT code_hash AS h FROM recovery_codes WHERE user_id = $1
     UNION ALL SELECT token_hash FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1
     UNION ALL SELECT grace_enc FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1 AND grace_enc IS NOT NULL
     UNION ALL SELECT token_hash FROM two_factor_challenges WHERE user_id = $1`,
    [account.id],
  );
  const secrets = [
    account.password,
    account.accessToken,
    account.refreshToken,
    refreshed.accessToken,
    refreshed.refreshToken,
    challengeToken,
    setup.secret,
    setup.otpauthUrl,
    ...recoveryCodes,
    stored.password_hash,
    stored.totp_secret_enc,
    ...hashes.map((r) => r.h),
  ];
  expect(hashes.length).toBeGreaterThanOrEqual(10 + 2 + 1); // recovery codes, refresh tokens, the challenge
  return { account: { ...account, accessToken: refreshed.accessToken }, secrets };
}

function expectNoSecret(exported: unknown, secrets: string[]): void {
  const text = JSON.stringify(exported);
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThanOrEqual(6);
    if (text.includes(secret)) throw new Error(`the export holds a secret: ${secret.slice(0, 12)}…`);
  }
}

describe('a secret in myData', () => {
  test('myData holds the profile, sessions, 2FA state, challenges and audit events, and no secret', async () => {
    const { account, secrets } = await busyAccount();
    const res = await server.gql(OPS.myData, {}, account.accessToken);
    expect(res.errors).toBeUndefined();
    const data = res.data!.myData;
    expect(data.account).toMatchObject({ id: account.id, email: account.email, username: account.username, hasPassword: true, roles: ['USER'], lockedAt: null, consecutiveFailedLogins: 1 });
    expect(data.twoFactor).toEqual({ enabled: true, enrolmentPending: false, recoveryCodes: { total: 10, unused: 10 } });
    expect(data.sessions).toHaveLength(1);
    expect(data.sessions[0]).toMatchObject({ ipAddress: '127.0.0.1', userAgent: 'node', revokedAt: null });
    expect(data.twoFactorChallenges).toHaveLength(1);
    expect(data.auditEvents.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['user.registered', 'two_factor.enabled', 'login.two_factor_challenged', 'login.failed']),
    );
    expect(Object.keys(data).sort()).toEqual(['account', 'auditEvents', 'exportedAt', 'linkedAccounts', 'passkeys', 'sessions', 'twoFactor', 'twoFactorChallenges']);
    expectNoSecret(data, secrets);
  });

  test('every export is audited; myData of another account cannot be asked for, and a deleted account has none', async () => {
    const user = await registerAccount(server);
    await server.gql(OPS.myData, {}, user.accessToken);
    const [event] = await db().query(`SELECT data FROM audit_events WHERE user_id = $1 AND type = 'user.data_exported'`, [user.id]);
    expect(event.data).toEqual({ by: 'self' });
    expect(codeOf(await server.gql(OPS.myData, {}))).toBe('UNAUTHENTICATED');
    await server.gql(OPS.deleteMyAccount, { password: user.password }, user.accessToken);
    expect(codeOf(await server.gql(OPS.myData, {}, user.accessToken))).toBe('UNAUTHENTICATED');
  });

  test('the CLI export-user gives an operator the same record, without a secret and without a cap', async () => {
    const { account, secrets } = await busyAccount();
    const res = await cli(env, 'export-user', account.email);
    expect(res.code).toBe(0);
    const exported = JSON.parse(res.stdout);
    const viaApi = (await server.gql(OPS.myData, {}, account.accessToken)).data!.myData;
    expect(Object.keys(exported).sort()).toEqual(Object.keys(viaApi).sort());
    expect(exported.account).toEqual(viaApi.account);
    expectNoSecret(exported, secrets);
    const [event] = await db().query(`SELECT data, ip_address FROM audit_events WHERE user_id = $1 AND type = 'user.data_exported' ORDER BY id LIMIT 1`, [account.id]);
    expect(event).toEqual({ data: { by: 'cli' }, ip_address: null });
  });
});

describe('modules contribute their part', () => {
  test('a module with a personalData hook adds its record to myData (how passkeys and linked accounts join)', async () => {
    const passkeys: FeatureModule = defineModule({
      name: 'test-passkeys',
      personalData: () => async (userId) => ({ testDevices: [{ owner: userId, name: 'YubiKey' }] }),
    });
    const running = await startBouncer(loadConfig(testEnv(env)), undefined, {
      override: (c) => c.replace(ModulesToken, [...c.get(ModulesToken), passkeys]),
    });
    try {
      const user = await registerAccount({ gql: (q, v, t, h) => postGraphQL(running.url, q, v, t, h) } as TestServer);
      const res = await postGraphQL<Record<string, any>>(running.url, OPS.myData, {}, user.accessToken);
      expect(res.data!.myData.testDevices).toEqual([{ owner: user.id, name: 'YubiKey' }]);
      expect(res.data!.myData.account.id).toBe(user.id);
    } finally {
      await running.stop();
    }
  });
});
