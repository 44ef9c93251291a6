import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, killServiceProcesses, runServiceExpectingExit, startServiceProcess } from '../support/service-process';

/**
 * Threat (availability, operator error): as root, PostgreSQL refuses to run, so the embedded
 * database runs as the user "postgres". Started from a folder that other users cannot enter (a
 * home directory of mode 700), that user cannot reach its data directory and `npm start` died with
 * initdb's error and a stack trace. It must stop with one line saying why and what to do.
 */
jest.setTimeout(180_000);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  // eslint-disable-next-line no-console
  console.warn('root-start-in-closed-folder: skipped, the embedded PostgreSQL changes user only when the service runs as root');
}
const rootOnly = isRoot ? test : test.skip;

const closed = join(process.cwd(), '.data', `closed-home-${process.pid}`);
beforeAll(() => {
  mkdirSync(closed, { recursive: true });
  chmodSync(join(process.cwd(), '.data'), 0o755);
});
afterAll(() => {
  killServiceProcesses();
  rmSync(closed, { recursive: true, force: true });
});

rootOnly('as root, a DATA_DIR inside a mode-700 folder stops the start with one line naming the fix', async () => {
  chmodSync(closed, 0o700);
  const env = { DATA_DIR: join(closed, 'data'), EMBEDDED_PG_PORT: String(await freePort()), PORT: String(await freePort()), HOST: '127.0.0.1', BCRYPT_ROUNDS: '4', LOG_LEVEL: 'info' };
  const res = await runServiceExpectingExit(env);
  expect(res.code).toBe(1);
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(join(closed, 'data'));
  expect(lines[0]).toMatch(/normal user/);
  expect(lines[0]).toContain('DATABASE_URL');
  expect(res.stderr).not.toMatch(/\n\s+at |EACCES|initdb/);

  // Positive control: once other users may pass through the folder, the same start succeeds.
  chmodSync(closed, 0o711);
  const service = await startServiceProcess(env);
  try {
    expect((await fetch(`${service.origin}/readyz`)).status).toBe(200);
  } finally {
    expect(await service.stop()).toBe(0);
  }
});
