import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';

const ME = '{ me { id } }';
let server: TestServer;
let account: TestAccount;

beforeAll(async () => {
  server = await startTestServer();
  account = await registerAccount(server);
});
afterAll(() => server.stop());

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** Signs with the service's real key: only the claim under test is wrong. */
function signWithServiceKey(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const keys = server.running.services.keys;
  return jwt.sign(payload, keys.privateKey, { algorithm: keys.alg, header: { alg: keys.alg, kid: keys.kid, typ: 'at+jwt', ...header } });
}

async function expectRefused(token: string): Promise<void> {
  const res = await server.gql(ME, {}, token);
  expect(res.status).toBe(200);
  expect(codeOf(res)).toBe('UNAUTHENTICATED');
  expect(res.data).toBeNull();
}

describe('access tokens', () => {
  test('carry the contract claims, an ES256 signature, a kid and the access-token type', async () => {
    const header = headerOf(account.accessToken);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: server.running.services.keys.kid });
    const claims = claimsOf(account.accessToken);
    expect(claims).toMatchObject({ sub: account.id, iss: 'bouncer', aud: 'bouncer', roles: ['USER'] });
    expect(typeof claims.sid).toBe('string');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
  });

  test('verify with the key published at /.well-known/jwks.json', async () => {
    const jwks = (await (await fetch(`${server.origin}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    const jwk = jwks.keys.find((k) => k.kid === headerOf(account.accessToken).kid);
    expect(jwk).toBeDefined();
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    expect(jwt.verify(account.accessToken, publicKey, { algorithms: ['ES256'] })).toMatchObject({ sub: account.id });
  });

  test('a valid token opens a guarded field', async () => {
    const res = await server.gql(ME, {}, account.accessToken);
    expect(res.data?.me).toEqual({ id: account.id });
  });

  test('rejects a token with alg "none"', async () => {
    const claims = claimsOf(account.accessToken);
    await expectRefused(`${b64({ alg: 'none', typ: 'at+jwt', kid: headerOf(account.accessToken).kid })}.${b64(claims)}.`);
  });

  test('rejects an HS256 token signed with the public key (algorithm confusion)', async () => {
    const publicPem = createPublicKey(server.running.services.keys.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: server.running.services.keys.kid });
    const payload = b64({ ...claimsOf(account.accessToken), roles: ['ADMIN'] });
    const signature = createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url');
    await expectRefused(`${header}.${payload}.${signature}`);
  });

  test('rejects a token whose payload was tampered with (roles raised to ADMIN)', async () => {
    const [header, , signature] = account.accessToken.split('.');
    const payload = b64({ ...claimsOf(account.accessToken), roles: ['USER', 'ADMIN'] });
    await expectRefused(`${header}.${payload}.${signature}`);
  });

  test('rejects a token for another audience', async () => {
    const { sub, sid, roles, iat, exp } = claimsOf(account.accessToken);
    await expectRefused(signWithServiceKey({ sub, sid, roles, iat, exp, iss: 'bouncer', aud: 'some-other-api' }));
  });

  test('rejects a token from another issuer', async () => {
    const { sub, sid, roles, iat, exp } = claimsOf(account.accessToken);
    await expectRefused(signWithServiceKey({ sub, sid, roles, iat, exp, iss: 'evil-issuer', aud: 'bouncer' }));
  });

  test('rejects an expired token', async () => {
    const { sub, sid, roles } = claimsOf(account.accessToken);
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(signWithServiceKey({ sub, sid, roles, iat: now - 3600, exp: now - 60, iss: 'bouncer', aud: 'bouncer' }));
  });

  test('rejects a JWT of another type (typ other than at+jwt) even when signed with the service key', async () => {
    const { sub, sid, roles, iat, exp } = claimsOf(account.accessToken);
    await expectRefused(signWithServiceKey({ sub, sid, roles, iat, exp, iss: 'bouncer', aud: 'bouncer' }, { typ: 'JWT' }));
  });

  test('rejects a token signed by a foreign key that claims the service kid', async () => {
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const { sub, sid, iat, exp } = claimsOf(account.accessToken);
    const forged = jwt.sign({ sub, sid, roles: ['ADMIN'], iat, exp, iss: 'bouncer', aud: 'bouncer' }, foreign, {
      algorithm: 'ES256',
      header: { alg: 'ES256', kid: server.running.services.keys.kid, typ: 'at+jwt' },
    });
    await expectRefused(forged);
  });

  test('rejects a refresh token presented as a Bearer token', async () => {
    await expectRefused(account.refreshToken);
  });

  test('rejects a malformed Authorization header without failing public operations', async () => {
    const guarded = await server.gql(ME, {}, 'not a token at all');
    expect(codeOf(guarded)).toBe('UNAUTHENTICATED');
    const open = await server.gql('mutation { refreshToken(refreshToken: "x") { accessToken } }', {}, 'garbage');
    expect(codeOf(open)).toBe('INVALID_TOKEN');
  });

  test('a guarded field without any token is UNAUTHENTICATED', async () => {
    const res = await server.gql(ME);
    expect(codeOf(res)).toBe('UNAUTHENTICATED');
  });
});
