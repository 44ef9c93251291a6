import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { codeOf, startTestServer, type TestServer } from '../support/test-server';
import { isolated } from '../abuse/abuse.helpers';

// Real bcrypt cost, so that skipping the hash for unknown accounts would stand out from the noise.
const ROUNDS = '10';
const SAMPLES = 7;

let server: TestServer;
beforeAll(async () => {
  // Delays off and counters of its own: a login answered RATE_LIMITED does no bcrypt work, and
  // timing one would compare the dummy hash with nothing.
  server = await startTestServer(isolated({ BCRYPT_ROUNDS: ROUNDS, LOGIN_DELAY_AFTER_FAILURES: '100' }));
});
afterAll(() => server.stop());

/** Milliseconds of one failed login; every sample must be a checked password (INVALID_CREDENTIALS). */
async function timeLogin(identifier: string, password: string): Promise<number> {
  const started = process.hrtime.bigint();
  const res = await server.gql(LOGIN, { input: { identifier, password } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  expect(codeOf(res)).toBe('INVALID_CREDENTIALS');
  return ms;
}

/** Load on a shared machine only ever adds time: the fastest sample is the closest to the work itself. */
const fastest = (values: number[]): number => Math.min(...values);

test('an unknown identifier costs the same bcrypt work as a wrong password (no account enumeration by timing)', async () => {
  const account = await registerAccount(server);
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved so that machine load drifts hit both series alike.
    wrong.push(await timeLogin(account.email, `Wrong-password-${i}`));
    unknown.push(await timeLogin(uniqueEmail('ghost'), `Wrong-password-${i}`));
  }
  const ratio = fastest(unknown) / fastest(wrong);
  // Generous bound: without the dummy hash the ratio is about 0.05 at this cost.
  expect(ratio).toBeGreaterThan(0.6);
  expect(ratio).toBeLessThan(1.6);
});
