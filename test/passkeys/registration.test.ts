import { isolated } from '../abuse/abuse.helpers';
import { LOGIN, registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { addPasskey, auditData, browser, OP, PASSKEY_ENV, register, RP_ID, startRegistration } from './passkeys.helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated(PASSKEY_ENV));
});
afterAll(() => server?.stop());

const db = () => server.running.services.dataSource;

describe('registration while signed in', () => {
  let account: TestAccount;
  beforeAll(async () => {
    account = await registerAccount(server);
  });

  test('asks for a discoverable credential on this RP ID, with a random user handle that is neither the email nor the account id', async () => {
    const { challengeId, options, expiresIn } = await startRegistration(server, account);
    expect(expiresIn).toBe(300);
    expect(challengeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(options.rp).toEqual({ id: RP_ID, name: 'Bouncer' });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true });
    expect(options.attestation).toBe('none');
    expect(options.pubKeyCredParams.map((p: { alg: number }) => p.alg)).toEqual(expect.arrayContaining([-7, -8, -257]));
    // At least 128 random bits of challenge.
    expect(Buffer.from(options.challenge, 'base64url').length).toBeGreaterThanOrEqual(16);
    const handle = Buffer.from(options.user.id, 'base64url');
    expect(handle.length).toBe(32);
    expect(handle.toString('utf8')).not.toContain(account.email);
    expect(options.user.id).not.toBe(Buffer.from(account.id).toString('base64url'));
    expect(handle.toString('hex')).not.toContain(account.id.replace(/-/g, ''));
    expect(options.user.name).toBe(account.email);
    // The same handle for every passkey of the account (one credential per account on a device).
    expect((await startRegistration(server, account)).options.user.id).toBe(options.user.id);
    const other = await registerAccount(server);
    expect((await startRegistration(server, other)).options.user.id).not.toBe(options.user.id);
  });

  test('stores the passkey, lists it, audits passkey.added, and excludes it from the next registration', async () => {
    const authenticator = browser();
    const passkey = await addPasskey(server, account, authenticator, 'Laptop');
    expect(passkey).toMatchObject({ name: 'Laptop', lastUsedAt: null, backedUp: false });
    const listed = await server.gql(OP.passkeys, {}, account.accessToken);
    expect(listed.data?.passkeys.map((p: { id: string }) => p.id)).toContain(passkey.id);
    expect(await auditData(server, account.id, 'passkey.added')).toContainEqual(expect.objectContaining({ passkeyId: passkey.id, name: 'Laptop' }));

    const { options } = await startRegistration(server, account);
    expect(options.excludeCredentials.map((c: { id: string }) => c.id)).toContain(authenticator.credentials[0].id.toString('base64url'));
  });

  test('names a passkey after its provider when the authenticator says which (AAGUID), else generically', async () => {
    const googleAaguid = Buffer.from('ea9b8d664d011d213ce4b6b48cb575d4', 'hex');
    expect((await addPasskey(server, account, browser({ aaguid: googleAaguid, backedUp: true }))).name).toBe('Google Password Manager');
    expect(await addPasskey(server, account, browser({ backedUp: true }))).toMatchObject({ name: 'Synced passkey', backedUp: true });
    expect((await addPasskey(server, account, browser())).name).toBe('Passkey');
  });

  test('does not turn two-factor on: the password alone still signs in', async () => {
    const fresh = await registerAccount(server);
    await addPasskey(server, fresh, browser());
    const me = await server.gql(operation('Me'), {}, fresh.accessToken);
    expect(me.data?.me.twoFactorEnabled).toBe(false);
    const login = await server.gql(LOGIN, { input: { identifier: fresh.email, password: fresh.password } });
    expect(login.data?.login.__typename).toBe('AuthPayload');
  });

  test('a credential registered twice is PASSKEY_ALREADY_REGISTERED, also for another account', async () => {
    const authenticator = browser();
    const first = await register(server, account, authenticator);
    expect(first.errors).toBeUndefined();
    // The same credential (ID and key) presented again in a fresh ceremony.
    const replay = async (who: TestAccount) => {
      const { challengeId, options } = await startRegistration(server, who);
      const response = authenticator.register(options);
      authenticator.credentials.pop();
      const original = authenticator.credentials[authenticator.credentials.length - 1];
      // Rebuild the response around the first credential's ID: a second create() of the same key.
      const again = JSON.parse(JSON.stringify(response));
      const raw = Buffer.from(again.response.attestationObject, 'base64url');
      const newId = Buffer.from(again.id, 'base64url');
      raw.set(original.id, raw.indexOf(newId));
      again.response.attestationObject = raw.toString('base64url');
      again.id = again.rawId = original.id.toString('base64url');
      return server.gql(OP.finishRegistration, { challengeId, response: again }, who.accessToken);
    };
    expect(codeOf(await replay(account))).toBe('PASSKEY_ALREADY_REGISTERED');
    expect(codeOf(await replay(await registerAccount(server)))).toBe('PASSKEY_ALREADY_REGISTERED');
  });
});

describe('password re-check', () => {
  test('starting a registration needs the password when the account has one', async () => {
    const account = await registerAccount(server);
    const missing = await server.gql(OP.startRegistration, { password: null }, account.accessToken);
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors?.[0].extensions?.fields).toEqual([expect.objectContaining({ field: 'password' })]);
    expect(codeOf(await server.gql(OP.startRegistration, { password: `${account.password}-wrong` }, account.accessToken))).toBe('INVALID_CREDENTIALS');
    expect((await server.gql(OP.startRegistration, { password: account.password }, account.accessToken)).data?.startPasskeyRegistration.challengeId).toBeDefined();
  });

  test('signed out, nothing answers', async () => {
    expect(codeOf(await server.gql(OP.startRegistration, { password: 'whatever-it-is' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(OP.passkeys))).toBe('UNAUTHENTICATED');
  });

  test('rename needs no password; delete re-checks it and audits passkey.removed', async () => {
    const account = await registerAccount(server);
    const passkey = await addPasskey(server, account, browser());
    const renamed = await server.gql(OP.rename, { id: passkey.id, name: '  Phone  ' }, account.accessToken);
    expect(renamed.data?.renamePasskey).toMatchObject({ id: passkey.id, name: 'Phone' });
    expect(codeOf(await server.gql(OP.rename, { id: passkey.id, name: '   ' }, account.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql(OP.rename, { id: passkey.id, name: 'x'.repeat(65) }, account.accessToken))).toBe('BAD_USER_INPUT');

    expect(codeOf(await server.gql(OP.remove, { id: passkey.id, password: null }, account.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql(OP.remove, { id: passkey.id, password: `${account.password}-wrong` }, account.accessToken))).toBe('INVALID_CREDENTIALS');
    expect((await server.gql(OP.passkeys, {}, account.accessToken)).data?.passkeys).toHaveLength(1);
    expect((await server.gql(OP.remove, { id: passkey.id, password: account.password }, account.accessToken)).data?.deletePasskey).toBe(true);
    expect((await server.gql(OP.passkeys, {}, account.accessToken)).data?.passkeys).toEqual([]);
    expect(await auditData(server, account.id, 'passkey.removed')).toEqual([expect.objectContaining({ passkeyId: passkey.id, name: 'Phone' })]);
  });

  test("another account's passkey can be neither renamed nor deleted (an unknown id, BAD_USER_INPUT on id)", async () => {
    const owner = await registerAccount(server);
    const intruder = await registerAccount(server);
    const passkey = await addPasskey(server, owner, browser());
    const rename = await server.gql(OP.rename, { id: passkey.id, name: 'mine now' }, intruder.accessToken);
    expect(rename.errors?.[0].extensions?.fields).toEqual([expect.objectContaining({ field: 'id' })]);
    const remove = await server.gql(OP.remove, { id: passkey.id, password: intruder.password }, intruder.accessToken);
    expect(remove.errors?.[0].extensions?.fields).toEqual([expect.objectContaining({ field: 'id' })]);
    expect((await server.gql(OP.passkeys, {}, owner.accessToken)).data?.passkeys).toEqual([expect.objectContaining({ id: passkey.id, name: passkey.name })]);
  });
});

describe('limits', () => {
  test('at most 25 passkeys per account: the 26th is BAD_USER_INPUT, at the start and at the finish', async () => {
    const account = await registerAccount(server);
    const authenticator = browser();
    for (let i = 0; i < 24; i++) await addPasskey(server, account, authenticator, `Key ${i + 1}`);
    // Two ceremonies started at 24: the first finish makes 25, the second is refused.
    const a = await startRegistration(server, account);
    const b = await startRegistration(server, account);
    expect((await server.gql(OP.finishRegistration, { challengeId: a.challengeId, response: authenticator.register(a.options) }, account.accessToken)).errors).toBeUndefined();
    const over = await server.gql(OP.finishRegistration, { challengeId: b.challengeId, response: authenticator.register(b.options) }, account.accessToken);
    expect(codeOf(over)).toBe('BAD_USER_INPUT');
    const start = await server.gql(OP.startRegistration, { password: account.password }, account.accessToken);
    expect(codeOf(start)).toBe('BAD_USER_INPUT');
    expect(start.errors?.[0].message).toMatch(/25/);
    const [{ n }] = await db().query('SELECT count(*)::int AS n FROM passkeys WHERE user_id = $1', [account.id]);
    expect(n).toBe(25);
  });
});
