import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded PostgreSQL's superuser password, under DATA_DIR. */
export const EMBEDDED_PASSWORD_FILE = 'embedded-pg-password';
const PASSWORD_SHAPE = /^[A-Za-z0-9_-]{32,}$/;

/** 192 random bits, base64url: safe in a connection URL and in an SQL string literal. */
export function randomEmbeddedPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The password of the embedded development database: made at the first start (random, mode 0600
 * under `dataDir`) and read back afterwards, so no two installations share one and other local
 * users cannot read it. `created` says whether this call made it.
 */
export function readOrCreateEmbeddedPassword(dataDir: string): { password: string; created: boolean; path: string } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, EMBEDDED_PASSWORD_FILE);
  let created = false;
  try {
    // wx: two processes starting at once must not overwrite each other's fresh password.
    writeFileSync(path, `${randomEmbeddedPassword()}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A copy made readable by others (restored from a backup, say) is closed again.
  if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  const password = readFileSync(path, 'utf8').trim();
  if (!PASSWORD_SHAPE.test(password)) {
    throw new Error(`${path} does not hold an embedded database password (32 or more of A-Z a-z 0-9 _ -); delete it to have one made`);
  }
  return { password, created, path };
}

export function embeddedPassword(dataDir: string): string {
  return readOrCreateEmbeddedPassword(dataDir).password;
}
