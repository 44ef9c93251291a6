import { resolve } from 'node:path';
import { Client } from 'pg';
import type { EmbeddedDatabase } from '../../src/db/embedded-postgres';

/** The database the bench runs the service on; dropped (and an embedded server stopped) at the end. */
export interface BenchDatabase {
  /** DATABASE_URL of the fresh bench database. */
  url: string;
  /** Where the server comes from, for the report. */
  server: string;
  serverVersion: string;
  /** A further fresh database `bouncer_bench_<suffix>` on the same server (dropped with the rest); its URL. */
  extra(suffix: string): Promise<string>;
  drop(): Promise<void>;
}

export const BENCH_DATABASE = 'bouncer_bench';
/** The embedded server of the bench: its own data directory and port, away from the dev and test ones. */
const EMBEDDED_DIR = resolve(process.cwd(), '.data', 'bench-pg');
const EMBEDDED_PORT = 54331;

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined); // a server going away mid-call is reported by the call itself
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * DATABASE_URL when set (its server gets a fresh `bouncer_bench` database, and
 * `bouncer_bench_scale` for the large-table comparison), else the embedded
 * PostgreSQL the service itself would start, under .data/bench-pg on port 54331.
 */
export async function openBenchDatabase(databaseUrl: string | undefined, log: (line: string) => void): Promise<BenchDatabase> {
  let embedded: EmbeddedDatabase | null = null;
  let adminUrl = databaseUrl;
  let server = 'the DATABASE_URL server';
  if (!adminUrl) {
    const { startEmbeddedPostgres } = await import('../../src/db/embedded-postgres');
    log(`starting the embedded PostgreSQL (${EMBEDDED_DIR}, port ${EMBEDDED_PORT})`);
    embedded = await startEmbeddedPostgres(EMBEDDED_DIR, EMBEDDED_PORT, (line) => log(`postgres: ${line}`));
    adminUrl = embedded.url;
    server = `embedded (.data/bench-pg, port ${EMBEDDED_PORT})`;
  }
  const serverVersion = await admin(adminUrl, async (client) => {
    // A crashed earlier run may have left it behind; FORCE ends its sessions (PostgreSQL 13+).
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`);
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  });
  let dropped = false;
  const databases = [BENCH_DATABASE];
  return {
    url: withDatabase(adminUrl, BENCH_DATABASE),
    server,
    serverVersion,
    extra: async (suffix) => {
      if (!/^[a-z0-9_]+$/.test(suffix)) throw new Error(`bad database suffix "${suffix}"`);
      const name = `${BENCH_DATABASE}_${suffix}`;
      databases.push(name);
      await admin(adminUrl!, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${name}`);
      });
      return withDatabase(adminUrl!, name);
    },
    drop: async () => {
      if (dropped) return;
      dropped = true;
      try {
        await admin(adminUrl!, async (client) => {
          for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        });
      } finally {
        await embedded?.stop();
      }
    },
  };
}
