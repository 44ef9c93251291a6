import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { registerAccount, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import { Client } from 'pg';
import { dropDatabase, withDatabase } from '../support/test-database';
import { startTestServer, testEnv, type TestServer } from '../support/test-server';

const run = promisify(execFile);

export const OPS = {
  lockUser: operation('LockUser'),
  unlockUser: operation('UnlockUser'),
  revokeUserSessions: operation('RevokeUserSessions'),
  deleteUser: operation('DeleteUser'),
  auditEvents: operation('AuditEvents'),
  myAuditEvents: operation('MyAuditEvents'),
  myData: operation('MyData'),
  deleteMyAccount: operation('DeleteMyAccount'),
  refresh: operation('RefreshToken'),
  me: operation('Me'),
  login: operation('Login'),
};

/** Makes an account an administrator (the role is read from the database on every guarded call). */
export async function makeAdmin(server: TestServer, account: TestAccount): Promise<TestAccount> {
  await server.running.services.dataSource.query(`UPDATE users SET roles = '{USER,ADMIN}' WHERE id = $1`, [account.id]);
  return account;
}

export async function registerAdmin(server: TestServer): Promise<TestAccount> {
  return makeAdmin(server, await registerAccount(server));
}

/** The CLI as an operator runs it (compiled by `pretest`), against the given environment. */
export function cli(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['dist/src/cli/cli.js', ...args], { env: { ...process.env, ...testEnv(env) } as NodeJS.ProcessEnv }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/**
 * A service on a database of its own: the last-administrator rules count every administrator of
 * the database, and the shared test database holds those of other test files.
 */
export async function startIsolatedServer(name: string, env: Record<string, string> = {}): Promise<{ server: TestServer; env: Record<string, string>; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
  const database = `${process.env.TEST_DATABASE_URL!.split('/').pop()}_${name}_${randomBytes(3).toString('hex')}`;
  await createDatabase(adminUrl, database);
  const own = { DATABASE_URL: withDatabase(adminUrl, database), ...env };
  const server = await startTestServer(own);
  return {
    server,
    env: own,
    drop: async () => {
      await server.stop();
      await dropDatabase(adminUrl, database);
    },
  };
}

/**
 * From template0: CREATE DATABASE copies its template and fails while anyone else is connected to
 * it, and other runs on the same server create theirs from template1.
 */
async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await client.end();
  }
}

/** The session id (`sid`) an access token belongs to. */
export const sessionOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
