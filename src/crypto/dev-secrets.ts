import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CoreConfig as Config } from '../config/core-config';

export interface Secrets {
  jwtPrivateKeyPem: string;
  encryptionKey: Buffer;
}

function readOrCreate(path: string, create: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  const value = create();
  // wx: two instances starting at once must not overwrite each other's fresh key.
  try {
    writeFileSync(path, value, { mode: 0o600, flag: 'wx' });
    return value;
  } catch {
    return readFileSync(path, 'utf8');
  }
}

/**
 * Outside production, missing keys are generated once under DATA_DIR/keys and reused, so tokens
 * and encrypted secrets survive a restart. Production refuses to start without them (config).
 */
export function resolveSecrets(config: Config): Secrets {
  const dir = join(config.dataDir, 'keys');
  const needDir = !config.jwtPrivateKeyPem || !config.encryptionKey;
  if (needDir) {
    // DATA_DIR itself stays traversable: the embedded PostgreSQL runs as its own user under it.
    mkdirSync(config.dataDir, { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const jwtPrivateKeyPem =
    config.jwtPrivateKeyPem ??
    readOrCreate(join(dir, 'jwt-private.pem'), () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
  const encryptionKey =
    config.encryptionKey ??
    Buffer.from(readOrCreate(join(dir, 'encryption.key'), () => randomBytes(32).toString('base64')).trim(), 'base64');
  return { jwtPrivateKeyPem, encryptionKey };
}
