import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AccessTokenService } from '../../src/tokens/access-token.service';
import { loadSigningKeys, type SigningKeys } from '../../src/tokens/signing-keys';
import { Role } from '../../src/users/role.enum';

/**
 * Access tokens are signed and verified on node:crypto directly (src/tokens/jws.ts) instead of
 * jsonwebtoken, which cost as much as the signature itself on every refresh, login and cold check.
 * Threats: a verifier laxer than the library it replaced (algorithm confusion, `none`, a header
 * naming another algorithm than the key's, tampering, wrong issuer or audience, expired or not
 * yet valid tokens, malformed input). jsonwebtoken is the independent second implementation.
 */
const OPTIONS = { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: 900 };
const pem = (type: 'rsa' | 'ec'): string =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  ).export({ type: 'pkcs8', format: 'pem' }) as string;
const SESSION_END = new Date(Date.now() + 3_600_000);
const nowS = (): number => Math.floor(Date.now() / 1000);

describe.each(['ec', 'rsa'] as const)('%s keys', (type) => {
  const privatePem = pem(type);
  const keys: SigningKeys = loadSigningKeys(privatePem);
  const service = new AccessTokenService(keys, OPTIONS);
  const publicKey = createPublicKey(privatePem);
  /** A token signed by jsonwebtoken with the service's key, these claims and this header. */
  const foreign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}, key: jwt.Secret = privatePem, algorithm = keys.alg): string =>
    jwt.sign({ sub: 'u', sid: 's', roles: [Role.USER], iat: nowS(), exp: nowS() + 60, iss: 'bouncer', aud: 'bouncer', ...claims }, key, {
      algorithm: algorithm as jwt.Algorithm,
      header: { alg: algorithm as jwt.Algorithm, typ: 'at+jwt', kid: keys.kid, ...header },
    });

  test('a token the service issues verifies with jsonwebtoken, carrying the contract claims and header', () => {
    const { token } = service.issue('user-1', 'session-1', [Role.USER, Role.ADMIN], SESSION_END);
    const decoded = jwt.verify(token, publicKey, { algorithms: [keys.alg], issuer: 'bouncer', audience: 'bouncer', complete: true }) as jwt.Jwt;
    expect(decoded.header).toMatchObject({ alg: keys.alg, typ: 'at+jwt', kid: keys.kid });
    expect(decoded.payload).toMatchObject({ sub: 'user-1', sid: 'session-1', roles: ['USER', 'ADMIN'], iss: 'bouncer', aud: 'bouncer' });
    expect(service.verify(token)).toMatchObject({ sub: 'user-1', sid: 'session-1', roles: ['USER', 'ADMIN'] });
  });

  test('positive control: a token jsonwebtoken signed with the service key is accepted', () => {
    expect(fresh(service).verify(foreign({}))).toMatchObject({ sub: 'u', sid: 's' });
    expect(fresh(service).verify(foreign({ aud: ['other', 'bouncer'] }))).toMatchObject({ sub: 'u' });
  });

  test.each<[string, () => string]>([
    ['alg none', () => `${b64({ alg: 'none', typ: 'at+jwt', kid: keys.kid })}.${b64(claims())}.`],
    ['HS256 signed with the public key (algorithm confusion)', () => hs256WithPublicKey(keys, publicKey, claims())],
    ['a header naming the other algorithm', () => swapAlg(foreign({}), type === 'ec' ? 'RS256' : 'ES256')],
    ['a tampered payload (roles raised)', () => tamper(foreign({}), { roles: ['USER', 'ADMIN'] })],
    ['another issuer', () => foreign({ iss: 'someone-else' })],
    ['another audience', () => foreign({ aud: 'someone-else' })],
    ['expired beyond the clock tolerance', () => foreign({ iat: nowS() - 120, exp: nowS() - 10 })],
    ['not valid before a time to come', () => foreign({ nbf: nowS() + 60 })],
    ['another type', () => foreign({}, { typ: 'JWT' })],
    ['an unknown kid', () => foreign({}, { kid: 'not-a-key' })],
    ['a foreign key claiming the service kid', () => foreign({}, {}, pem(type))],
    ['roles that are not strings', () => foreign({ roles: [{ admin: true }] })],
    ['no sid', () => foreign({ sid: undefined })],
    ['a fourth segment', () => `${foreign({})}.x`],
    ['characters outside base64url', () => foreign({}).replace(/\.(.)/, '.+')],
    ['a truncated signature', () => foreign({}).slice(0, -10)],
  ])('refuses %s', (_what, make) => {
    expect(fresh(service).verify(make())).toBeNull();
  });

  function claims(): Record<string, unknown> {
    return { sub: 'u', sid: 's', roles: ['USER'], iat: nowS(), exp: nowS() + 60, iss: 'bouncer', aud: 'bouncer' };
  }
});

/** The same keys without the verified-token cache of earlier tests. */
function fresh(service: AccessTokenService): AccessTokenService {
  return new AccessTokenService((service as unknown as { keys: SigningKeys }).keys, OPTIONS);
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function hs256WithPublicKey(keys: SigningKeys, publicKey: ReturnType<typeof createPublicKey>, payload: Record<string, unknown>): string {
  const secret = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: keys.kid });
  const body = b64(payload);
  const { createHmac } = require('node:crypto') as typeof import('node:crypto');
  return `${header}.${body}.${createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')}`;
}

function swapAlg(token: string, alg: string): string {
  const [header, ...rest] = token.split('.');
  return [b64({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg }), ...rest].join('.');
}

function tamper(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  return [header, b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...changes }), signature].join('.');
}
