/**
 * Parsing helpers for environment variables: each throws a ConfigError naming the variable, which
 * main prints as one line. The values themselves are read by core-config.ts and by each module's
 * own reader (FeatureModule.readConfig); src/app/config.ts runs them all at start.
 */
export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

export const DAY_SECONDS = 24 * 60 * 60;

export function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

export function base64Key(name: string, raw: string): Buffer {
  const key = Buffer.from(raw, 'base64');
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== raw.replace(/=+$/, '')) {
    throw new ConfigError(name, 'must be 32 random bytes in base64 (openssl rand -base64 32)');
  }
  return key;
}

export function pemList(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? [];
}

/** One of `allowed`, or the fallback when unset. */
export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name) ?? fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

/**
 * APP_URL, the public address of the front end (emailed links, the passkeys' relying party): an
 * http(s) URL without query, fragment or credentials. One reader for every module that uses it.
 */
export function appUrl(env: Env): URL | undefined {
  const raw = str(env, 'APP_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('APP_URL', 'must be a URL like https://app.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('APP_URL', `must use https:// (or http://), got "${url.protocol}"`);
  if (url.search || url.hash || url.username || url.password) throw new ConfigError('APP_URL', 'takes no query, fragment or credentials: links append their own path and fragment');
  return url;
}
