import { generateKeyPairSync } from 'node:crypto';
import { AccessTokenService } from '../../src/tokens/access-token.service';
import { loadSigningKeys } from '../../src/tokens/signing-keys';
import { Role } from '../../src/users/role.enum';

const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const service = new AccessTokenService(loadSigningKeys(pem), { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: 60 });
const farFuture = new Date(Date.now() + 86_400_000);

afterEach(() => jest.useRealTimers());

test('a token accepted once (and so cached) is refused after it expires', () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
  const { token } = service.issue('user-1', 'session-1', [Role.USER], farFuture);
  expect(service.verify(token)).toMatchObject({ sub: 'user-1', sid: 'session-1' });
  expect(service.verify(token)).toMatchObject({ sub: 'user-1' }); // served from the cache
  jest.setSystemTime(Date.now() + 60_000 + 6_000); // past exp and the clock tolerance
  expect(service.verify(token)).toBeNull();
});

test('a token that differs from a cached one by a single character is verified afresh and refused', () => {
  const { token } = service.issue('user-2', 'session-2', [Role.USER], farFuture);
  expect(service.verify(token)).not.toBeNull();
  const [header, payload, signature] = token.split('.');
  const i = Math.floor(payload.length / 2);
  const tampered = [header, payload.slice(0, i) + (payload[i] === 'x' ? 'y' : 'x') + payload.slice(i + 1), signature].join('.');
  expect(service.verify(tampered)).toBeNull();
});

test('keeps the most recently used tokens when it must evict (a busy token is not re-verified)', () => {
  const small = new AccessTokenService(loadSigningKeys(pem), { issuer: 'bouncer', audience: 'bouncer', ttlSeconds: 60, verifiedCacheEntries: 10 });
  const hot = small.issue('hot', 'session-hot', [Role.USER], farFuture).token;
  const cold = small.issue('cold', 'session-cold', [Role.USER], farFuture).token;
  small.verify(cold);
  small.verify(hot);
  for (let i = 0; i < 30; i++) {
    small.verify(hot); // still in use while others come and go
    small.verify(small.issue(`user-${i}`, `session-${i}`, [Role.USER], farFuture).token);
  }
  const verifySpy = jest.spyOn(small as unknown as { verifySignature: (t: string) => unknown }, 'verifySignature');
  expect(small.verify(hot)).toMatchObject({ sub: 'hot' });
  expect(verifySpy).not.toHaveBeenCalled();
  expect(small.verify(cold)).toMatchObject({ sub: 'cold' });
  expect(verifySpy).toHaveBeenCalledTimes(1); // evicted, so verified again
});
