import Redis from 'ioredis';
import { registerAccount } from '../support/accounts';
import { TcpProxy } from '../support/tcp-proxy';
import { freePort } from '../support/service-process';
import { codeOf, startTestServer, trackedServers } from '../support/test-server';
import { pollUntil } from '../support/time';
import { Throttle } from '../../src/abuse/throttle';
import { AppError } from '../../src/errors/app-error';
import { isolated, login, retryAfterOf, wrongPassword } from './abuse.helpers';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NO_DELAYS = { LOGIN_DELAY_AFTER_FAILURES: '100' };
const TWO_FACTOR_LOCK_AFTER = 10;
const TWO_FACTOR_LOCK_SECONDS = 15 * 60;

const serve = trackedServers();

describe.each([
  ['PostgreSQL', {}],
  ['Redis', { REDIS_URL }],
])('counters in %s', (_store, storeEnv: Record<string, string>) => {
  test('failures spread over two instances sharing the store lock the account on both', async () => {
    const shared = isolated({ ...storeEnv, ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '4' });
    const [a, b] = [await serve(shared), await serve(shared)];
    const account = await registerAccount(a);
    for (let i = 0; i < 4; i++) expect(codeOf(await login(i % 2 ? a : b, account.email, wrongPassword()))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await login(a, account.email, account.password))).toBe('RATE_LIMITED');
    expect(codeOf(await login(b, account.email, account.password))).toBe('RATE_LIMITED');
  });

  test('a growing delay set by one instance is honoured by another', async () => {
    const shared = isolated({ ...storeEnv, LOGIN_DELAY_AFTER_FAILURES: '2' });
    const [a, b] = [await serve(shared), await serve(shared)];
    const account = await registerAccount(a);
    await login(a, account.email, wrongPassword());
    await login(a, account.email, wrongPassword());
    const held = await login(b, account.email, account.password);
    expect(codeOf(held)).toBe('RATE_LIMITED');
    expect(retryAfterOf(held)).toBe(1);
  });

  test('a success at one instance resets the count everywhere', async () => {
    const shared = isolated({ ...storeEnv, ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '3' });
    const [a, b] = [await serve(shared), await serve(shared)];
    const account = await registerAccount(a);
    for (let round = 0; round < 2; round++) {
      await login(a, account.email, wrongPassword());
      await login(a, account.email, wrongPassword());
      expect((await login(b, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
    }
  });

  test('instances with different key prefixes do not share counters', async () => {
    const a = await serve(isolated({ ...storeEnv, ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '2' }));
    const b = await serve(isolated({ ...storeEnv, ...NO_DELAYS, LOGIN_LOCK_AFTER_FAILURES: '2' }));
    const account = await registerAccount(a);
    await login(a, account.email, wrongPassword());
    await login(a, account.email, wrongPassword());
    expect(codeOf(await login(a, account.email, account.password))).toBe('RATE_LIMITED');
    expect((await login(b, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('2FA failures lock the second factor for 15 minutes at the 10th, on a counter of their own', async () => {
    const server = await serve(isolated(storeEnv));
    const throttle = server.running.container.get(Throttle);
    const account = await registerAccount(server);
    const checks = [{ policy: '2fa:acct', key: account.id }, { policy: '2fa:ip', key: '127.0.0.1' }];
    for (let i = 1; i < TWO_FACTOR_LOCK_AFTER; i++) expect(await (await throttle.begin(checks)).failed()).toEqual({ locked: false });
    expect(await (await throttle.begin(checks)).failed()).toEqual({ locked: true });

    const refused = await throttle.begin(checks).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('RATE_LIMITED');
    const retryAfter = (refused as AppError).extensions.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(TWO_FACTOR_LOCK_SECONDS - 30);
    expect(retryAfter).toBeLessThanOrEqual(TWO_FACTOR_LOCK_SECONDS);

    // Password logins have counters of their own.
    expect((await login(server, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
  });

  test('a 2FA success resets the account 2FA failure count', async () => {
    const server = await serve(isolated(storeEnv));
    const throttle = server.running.container.get(Throttle);
    const account = await registerAccount(server);
    const checks = [{ policy: '2fa:acct', key: account.id }];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < TWO_FACTOR_LOCK_AFTER - 1; i++) await (await throttle.begin(checks)).failed();
      await (await throttle.begin(checks)).succeeded();
    }
    await expect(throttle.begin(checks)).resolves.toBeDefined();
  });
});

describe('Redis store', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await redis.quit();
  });

  async function clientNames(): Promise<string[]> {
    const list = (await redis.client('LIST')) as string;
    return [...list.matchAll(/ name=(\S*)/g)].map((m) => m[1]);
  }

  test('keeps counters under the configured prefix, identifiers hashed (no email addresses in Redis)', async () => {
    const env = isolated({ REDIS_URL });
    const server = await serve(env);
    const account = await registerAccount(server);
    await login(server, account.email, wrongPassword());
    const keys = await redis.keys(`${env.RATE_LIMIT_KEY_PREFIX}:*`);
    expect(keys.length).toBeGreaterThan(0);
    const localPart = account.email.split('@')[0];
    for (const key of keys) expect(key).not.toContain(localPart);
  });

  test('close() releases the Redis connection it opened', async () => {
    const env = isolated({ REDIS_URL });
    const server = await startTestServer(env);
    const name = `${env.RATE_LIMIT_KEY_PREFIX}:rate-limits`;
    expect(await clientNames()).toContain(name);
    await server.stop();
    expect(await clientNames()).not.toContain(name);
  });

  test('fails closed with SERVICE_UNAVAILABLE while Redis is unreachable (never a login without limits), and recovers', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
    const port = await proxy.start();
    try {
      const server = await serve(isolated({ REDIS_URL: `redis://127.0.0.1:${port}` }));
      const account = await registerAccount(server);
      await proxy.cut();

      const res = await login(server, account.email, account.password);
      expect(res.status).toBe(200);
      expect(codeOf(res)).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(res.errors)).not.toMatch(/ECONNREFUSED|Redis|stack/i);
      expect(codeOf(await login(server, account.email, wrongPassword()))).toBe('SERVICE_UNAVAILABLE');
      expect(codeOf(await server.gql('mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', {
        i: { email: `x-${Date.now()}@example.com`, password: `Tr0ub4dor&3-${Date.now()}` },
      }))).toBe('SERVICE_UNAVAILABLE');
      expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);

      await proxy.restore();
      const recovered = await pollUntil(
        async () => (await login(server, account.email, account.password)).data?.login.__typename,
        (typename) => typename === 'AuthPayload',
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(recovered.value).toBe('AuthPayload');
    } finally {
      await proxy.cut();
    }
  });

  test('starts even when Redis is down, refusing logins until it answers', async () => {
    const server = await serve(isolated({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }));
    expect(codeOf(await login(server, 'someone@example.com', wrongPassword()))).toBe('SERVICE_UNAVAILABLE');
  });
});
