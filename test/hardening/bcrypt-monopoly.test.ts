import { registerAccount } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { sleep } from '../support/time';
import { isolated, login } from '../abuse/abuse.helpers';

/**
 * Attack: one client keeps every bcrypt slot busy with correct passwords (successful checks were
 * unlimited), pushing everyone else's logins into SERVICE_UNAVAILABLE. Now the bcrypt queue is fair
 * between client addresses, and successful sign-ins per account are limited.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(isolated({ TRUST_PROXY: '1', BCRYPT_ROUNDS: '8', BCRYPT_CONCURRENCY: '1', BCRYPT_QUEUE_LIMIT: '8', LOGIN_SUCCESSES_PER_HOUR: '1000' }));
});
afterAll(() => server.stop());

const from = (address: string) => ({ 'x-forwarded-for': address });

test("a client flooding bcrypt with correct passwords sheds its own requests, not another address's", async () => {
  const flooder = await registerAccount(server);
  const victim = await registerAccount(server);
  const flood = Array.from({ length: 40 }, () => login(server, flooder.email, flooder.password, from('203.0.113.7')));
  await sleep(50); // the flood fills the queue first
  const victims = await Promise.all(Array.from({ length: 3 }, () => login(server, victim.email, victim.password, from('198.51.100.9'))));
  const flooded = await Promise.all(flood);
  expect(flooded.filter((r) => codeOf(r) === 'SERVICE_UNAVAILABLE').length).toBeGreaterThan(0);
  for (const res of victims) expect(res.data?.login.__typename).toBe('AuthPayload');
});

describe('successful sign-ins per account', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer(isolated({ LOGIN_SUCCESSES_PER_HOUR: '3' }));
  });
  afterAll(() => limited.stop());

  test('are limited (a stolen password cannot open sessions without end), per account', async () => {
    const account = await registerAccount(limited);
    for (let i = 0; i < 3; i++) expect((await login(limited, account.email, account.password)).data?.login.__typename).toBe('AuthPayload');
    expect(codeOf(await login(limited, account.email, account.password))).toBe('RATE_LIMITED');
    // Positive control: another account is not affected.
    const other = await registerAccount(limited);
    expect((await login(limited, other.email, other.password)).data?.login.__typename).toBe('AuthPayload');
  });
});
