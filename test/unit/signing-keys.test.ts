import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ConfigError } from '../../src/config/parse';
import { AccessTokenService } from '../../src/tokens/access-token.service';
import { loadSigningKeys } from '../../src/tokens/signing-keys';
import { Role } from '../../src/users/role.enum';

const pkcs8 = (type: 'rsa' | 'ec', options: object) =>
  (generateKeyPairSync(type as 'rsa', options as { modulusLength: number }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);

test('an RSA key of 2048 bits signs RS256 tokens that verify with its JWK', () => {
  const keys = loadSigningKeys(pkcs8('rsa', { modulusLength: 2048 }));
  expect(keys.alg).toBe('RS256');
  expect(keys.jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: keys.kid });
  const service = new AccessTokenService(keys, { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: 60 });
  const { token } = service.issue('u', 's', [Role.USER], new Date(Date.now() + 3_600_000));
  expect(jwt.decode(token, { complete: true })!.header).toMatchObject({ alg: 'RS256', kid: keys.kid });
  expect(service.verify(token)).toMatchObject({ sub: 'u', sid: 's' });
});

test('refuses an RSA key under 2048 bits and an EC key off P-256, naming JWT_PRIVATE_KEY', () => {
  for (const pem of [pkcs8('rsa', { modulusLength: 1024 }), pkcs8('ec', { namedCurve: 'P-384' })]) {
    let error: unknown;
    try {
      loadSigningKeys(pem);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('JWT_PRIVATE_KEY');
  }
});

test('publishes a retired public key in the JWKS and still accepts tokens it signed (rotation)', () => {
  const oldPem = pkcs8('ec', { namedCurve: 'P-256' });
  const oldKeys = loadSigningKeys(oldPem);
  const options = { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: 60 };
  const { token } = new AccessTokenService(oldKeys, options).issue('u', 's', [Role.USER], new Date(Date.now() + 3_600_000));
  const publicPem = createPublicKey(oldPem).export({ type: 'spki', format: 'pem' }) as string;
  const rotated = loadSigningKeys(pkcs8('ec', { namedCurve: 'P-256' }), [publicPem]);
  expect(rotated.jwks.keys.map((k) => k.kid)).toEqual([rotated.kid, oldKeys.kid]);
  expect(new AccessTokenService(rotated, options).verify(token)).toMatchObject({ sub: 'u' });
});
