import { createHmac, createPublicKey, createSecretKey, generateKeyPairSync, sign as signBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { registerAccount, type TestAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { claimsOf, headerOf } from '../support/tokens';

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

/** Computes the signature segment of a JWT over `header.payload`. */
type Signer = (signingInput: string) => string;

/** RS256 or ES256 (JOSE's raw r||s encoding) with an asymmetric private key. */
const signedWith =
  (key: KeyObject): Signer =>
  (input) =>
    signBytes('sha256', Buffer.from(input), key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key).toString('base64url');
const hmacWith =
  (secret: KeyObject): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest('base64url');
const unsigned: Signer = () => '';

/** A token assembled part by part, as an attacker builds one. */
interface Forgery {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  sign: Signer;
}

function forge({ header, claims, sign }: Forgery): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign(input)}`;
}

/** The parts the service itself uses for the account (its key, header and claims): each forgery changes one. */
function genuine(): Forgery {
  const keys = server.running.services.keys;
  return { header: { alg: keys.alg, typ: 'at+jwt', kid: keys.kid }, claims: claimsOf(account.accessToken), sign: signedWith(keys.privateKey) };
}

/** The token with its payload replaced and the original signature kept. */
function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${b64(claims)}.${signature}`;
}

async function expectAccepted(token: string): Promise<void> {
  const res = await server.gql(ME, {}, token);
  expect(res.errors).toBeUndefined();
  expect(res.data?.me).toEqual({ id: account.id });
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

  // Each forgery changes one part of what the service would issue. Positive control beside each: the
  // same forge() with the genuine parts gives a token the service accepts, so a refusal is about the
  // changed part and not a broken helper.
  const now = () => Math.floor(Date.now() / 1000);
  test.each<[string, (g: Forgery) => Forgery]>([
    ['alg "none" with no signature', (g) => ({ ...g, header: { ...g.header, alg: 'none' }, sign: unsigned })],
    ['another audience', (g) => ({ ...g, claims: { ...g.claims, aud: 'some-other-api' } })],
    ['another issuer', (g) => ({ ...g, claims: { ...g.claims, iss: 'evil-issuer' } })],
    ['an expired token (past the clock tolerance)', (g) => ({ ...g, claims: { ...g.claims, iat: now() - 3600, exp: now() - 60 } })],
    ['a JWT of another type (typ other than at+jwt) signed with the service key', (g) => ({ ...g, header: { ...g.header, typ: 'JWT' } })],
  ])('rejects %s', async (_threat, change) => {
    await expectAccepted(forge(genuine()));
    await expectRefused(forge(change(genuine())));
  });

  test('rejects an HS256 token signed with the public key (algorithm confusion)', async () => {
    const publicPem = createPublicKey(server.running.services.keys.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const asSecret = createSecretKey(Buffer.from(publicPem));
    const g = genuine();
    const forged = forge({ header: { ...g.header, alg: 'HS256' }, claims: { ...g.claims, roles: ['ADMIN'] }, sign: hmacWith(asSecret) });
    // Positive controls: forge() with the genuine parts is accepted, and the forgery is a valid HS256
    // token under the public key, so a verifier that let the header pick the algorithm would take it.
    await expectAccepted(forge(g));
    expect(jwt.verify(forged, asSecret, { algorithms: ['HS256'] })).toMatchObject({ sub: account.id, roles: ['ADMIN'] });
    await expectRefused(forged);
  });

  test('rejects a token whose payload was tampered with (roles raised to ADMIN)', async () => {
    const claims = claimsOf(account.accessToken);
    // Positive control: re-encoding the same payload gives back the signed token byte for byte.
    expect(withPayload(account.accessToken, claims)).toBe(account.accessToken);
    await expectAccepted(withPayload(account.accessToken, claims));
    await expectRefused(withPayload(account.accessToken, { ...claims, roles: ['USER', 'ADMIN'] }));
  });

  test('rejects a token signed by a foreign key that claims the service kid', async () => {
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const g = genuine();
    const forged = forge({ ...g, header: { ...g.header, alg: 'ES256' }, claims: { ...g.claims, roles: ['ADMIN'] }, sign: signedWith(foreign.privateKey) });
    // Positive controls: the same signing with the service's key is accepted, and the forgery is a
    // valid ES256 signature, only by the wrong key.
    await expectAccepted(forge(g));
    expect(jwt.verify(forged, foreign.publicKey, { algorithms: ['ES256'] })).toMatchObject({ sub: account.id });
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
