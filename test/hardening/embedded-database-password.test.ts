import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { EMBEDDED_PASSWORD_FILE, embeddedPassword } from '../../src/db/embedded-password';
import { freePort, killServiceProcesses, startServiceProcess } from '../support/service-process';

/**
 * Threat: the embedded development PostgreSQL had one password for every installation, written in
 * the source: any local user could connect to a developer's database on loopback and make
 * themself ADMIN. The password is now made at the first start, random, and kept (mode 0600)
 * under DATA_DIR.
 */
jest.setTimeout(180_000);

const LEGACY_PASSWORD = 'bouncer-dev';
const root = join(process.cwd(), '.data', `embedded-password-${process.pid}`);

beforeAll(() => {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755); // the embedded PostgreSQL runs as its own user below it when the tests run as root
});
afterAll(() => {
  killServiceProcesses();
  rmSync(root, { recursive: true, force: true });
});

async function canConnect(port: number, password: string): Promise<boolean | string> {
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'bouncer', connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('the password file', () => {
  test('is created with mode 0600, random, and reused', () => {
    const a = join(root, 'unit-a');
    const b = join(root, 'unit-b');
    const first = embeddedPassword(a);
    expect(statSync(join(a, EMBEDDED_PASSWORD_FILE)).mode & 0o777).toBe(0o600);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(first).not.toBe(LEGACY_PASSWORD);
    // Random: another data dir gets another password; the same one gets the same password back.
    expect(embeddedPassword(b)).not.toBe(first);
    expect(embeddedPassword(a)).toBe(first);
    expect(readFileSync(join(a, EMBEDDED_PASSWORD_FILE), 'utf8').trim()).toBe(first);
  });
});

test('the embedded database accepts only the generated password, across restarts and after an upgrade from the constant', async () => {
  const dataDir = join(root, 'service');
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), PORT: String(await freePort()), HOST: '127.0.0.1', BCRYPT_ROUNDS: '4', LOG_LEVEL: 'warn' };
  const port = Number(env.EMBEDDED_PG_PORT);
  const file = join(dataDir, EMBEDDED_PASSWORD_FILE);

  const first = await startServiceProcess(env);
  const password = readFileSync(file, 'utf8').trim();
  expect(statSync(file).mode & 0o777).toBe(0o600);
  // The constant of old no longer opens the database; the generated password does (positive control).
  expect(await canConnect(port, LEGACY_PASSWORD)).toBe('28P01');
  expect(await canConnect(port, password)).toBe(true);
  expect(await first.stop()).toBe(0);

  // Restart: the same password, still the only one.
  const second = await startServiceProcess(env);
  expect(readFileSync(file, 'utf8').trim()).toBe(password);
  expect((await fetch(`${second.origin}/readyz`)).status).toBe(200);
  expect(await canConnect(port, password)).toBe(true);

  // A data dir made by an older version (constant password, no file) is moved to a generated password.
  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'bouncer' });
  await admin.connect();
  await admin.query(`ALTER ROLE postgres PASSWORD '${LEGACY_PASSWORD}'`);
  await admin.end();
  expect(await second.stop()).toBe(0);
  unlinkSync(file);

  const upgraded = await startServiceProcess(env);
  try {
    expect(existsSync(file)).toBe(true);
    const renewed = readFileSync(file, 'utf8').trim();
    expect(renewed).not.toBe(password);
    expect(await canConnect(port, LEGACY_PASSWORD)).toBe('28P01');
    expect(await canConnect(port, renewed)).toBe(true);
    expect((await fetch(`${upgraded.origin}/readyz`)).status).toBe(200);
  } finally {
    expect(await upgraded.stop()).toBe(0);
  }
});
