import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOGIN, REGISTER, uniqueEmail } from '../support/accounts';
import { productionEnv } from '../support/config-env';
import { freePort, killServiceProcesses, runServiceExpectingExit, startServiceProcess } from '../support/service-process';
import { postGraphQL } from '../support/test-server';
import { sleep } from '../support/time';

jest.setTimeout(120_000);

const dataDir = join(process.cwd(), '.data', `start-test-${process.pid}`);

beforeAll(() => {
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o755); // the embedded PostgreSQL runs as its own user below it
});
afterAll(() => {
  killServiceProcesses();
  rmSync(dataDir, { recursive: true, force: true });
});

test('starts with nothing configured (embedded PostgreSQL), keeps data across a restart, and exits 0 on SIGTERM', async () => {
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: String(await freePort()), HOST: '127.0.0.1', BCRYPT_ROUNDS: '4', LOG_LEVEL: 'warn' };
  const email = uniqueEmail('restart');
  const password = 'Restart-keeps-this-1';

  const first = await startServiceProcess(env);
  expect((await fetch(`${first.origin}/readyz`)).status).toBe(200);
  const registered = await postGraphQL<{ register: { user: { id: string } } }>(first.url, REGISTER, { input: { email, password } });
  expect(registered.errors).toBeUndefined();
  const jwks1 = await (await fetch(`${first.origin}/.well-known/jwks.json`)).text();
  expect(await first.stop('SIGTERM')).toBe(0);

  const second = await startServiceProcess(env);
  try {
    const login = await postGraphQL<{ login: { __typename: string; user: { id: string } } }>(second.url, LOGIN, { input: { identifier: email, password } });
    expect(login.data?.login).toMatchObject({ __typename: 'AuthPayload', user: { id: registered.data!.register.user.id } });
    // The development keys were generated once and reused: tokens survive the restart.
    expect(await (await fetch(`${second.origin}/.well-known/jwks.json`)).text()).toBe(jwks1);
  } finally {
    expect(await second.stop('SIGINT')).toBe(0);
  }
});

test('finishes a request in flight when SIGTERM arrives, then exits 0', async () => {
  const env = {
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    BCRYPT_ROUNDS: '12', // a register that takes a few hundred milliseconds
    LOG_LEVEL: 'warn',
  };
  const service = await startServiceProcess(env);
  const inFlight = postGraphQL<{ register: { accessToken: string } }>(service.url, REGISTER, {
    input: { email: uniqueEmail('drain'), password: 'Drain-me-please-1' },
  });
  await sleep(50); // the request is in flight
  const exit = service.stop('SIGTERM');
  const res = await inFlight;
  expect(res.errors).toBeUndefined();
  expect(res.data?.register.accessToken).toEqual(expect.any(String));
  expect(await exit).toBe(0);
});

test('a production start without JWT_PRIVATE_KEY exits non-zero with one line naming it', async () => {
  const res = await runServiceExpectingExit({ NODE_ENV: 'production', DATABASE_URL: process.env.TEST_DATABASE_URL, ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') });
  expect(res.code).not.toBe(0);
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('JWT_PRIVATE_KEY');
});

test('a production start with BCRYPT_ROUNDS below 10 exits non-zero with one line naming it', async () => {
  // Otherwise complete, so BCRYPT_ROUNDS is the one thing wrong.
  const res = await runServiceExpectingExit({ ...productionEnv(), DATABASE_URL: process.env.TEST_DATABASE_URL, BCRYPT_ROUNDS: '8' });
  expect(res.code).not.toBe(0);
  expect(res.stderr.trim().split('\n')).toEqual([expect.stringContaining('BCRYPT_ROUNDS')]);
});
