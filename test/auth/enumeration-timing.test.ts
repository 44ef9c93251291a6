import { LOGIN, registerAccount, uniqueEmail } from '../support/accounts';
import { startTestServer, type TestServer } from '../support/test-server';

// Real bcrypt cost, so that skipping the hash for unknown accounts would stand out from the noise.
const ROUNDS = '10';
const SAMPLES = 7;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ BCRYPT_ROUNDS: ROUNDS });
});
afterAll(() => server.stop());

async function timeLogin(identifier: string, password: string): Promise<number> {
  const started = process.hrtime.bigint();
  await server.gql(LOGIN, { input: { identifier, password } });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('an unknown identifier costs the same bcrypt work as a wrong password (no account enumeration by timing)', async () => {
  const account = await registerAccount(server);
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Interleaved so that machine load drifts hit both series alike.
    wrong.push(await timeLogin(account.email, `Wrong-password-${i}`));
    unknown.push(await timeLogin(uniqueEmail('ghost'), `Wrong-password-${i}`));
  }
  const ratio = median(unknown) / median(wrong);
  // Generous bound: without the dummy hash the ratio is about 0.05 at this cost.
  expect(ratio).toBeGreaterThan(0.6);
  expect(ratio).toBeLessThan(1.6);
});
