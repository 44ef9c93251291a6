import { Client } from 'pg';

/** The database this test run uses: its own, so runs side by side on one server do not collide. */
export const TEST_DATABASE_NAME = `bouncer_test_${process.pid}`;
export const EMBEDDED_TEST_PORT = 54330;

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs statements on one connection of the server's admin database, closed afterwards. */
async function onAdminConnection(adminUrl: string, statements: string[]): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function recreateDatabase(adminUrl: string, name: string): Promise<void> {
  await onAdminConnection(adminUrl, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`]);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await onAdminConnection(adminUrl, [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}
