import type { ThrottlePolicy } from '../abuse/throttle-policy';
import type { CoreConfig } from '../config/core-config';
import { appUrl, bool, ConfigError, int, str, type Env } from '../config/parse';

export interface PasskeysConfig {
  /** The WebAuthn relying party: the registrable domain passkeys are bound to (`example.com`). */
  rpId: string;
  /** Shown by the browser and the authenticator next to the account. */
  rpName: string;
  /** Exact origins (`https://app.example.com`) whose ceremonies are accepted. */
  origins: string[];
  /** Serve the demo page at /demo. */
  demoPage: boolean;
  /** Ceremonies (WebAuthn options) one client address may start per window: each is a stored row. */
  ceremoniesPerWindow: number;
  ceremonyWindowSeconds: number;
}

export const PasskeyLimit = {
  /** Failed passkey sign-ins per client address (refunded by a success). */
  FAILURES_BY_ADDRESS: 'passkey:ip',
  /** Ceremonies started per client address. */
  CEREMONIES_BY_ADDRESS: 'passkey:start:ip',
} as const;

const MAX_RP_NAME_CHARS = 64;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS and WEBAUTHN_RP_NAME (CONTRACT.md, Passkeys). Unset, the RP ID
 * and origin come from APP_URL; without APP_URL, development uses the service's own address
 * (http://localhost:PORT) and production refuses to start, naming the missing variable: a wrong
 * RP ID would bind every passkey to the wrong site, and it cannot be changed afterwards.
 */
export function readPasskeysConfig(env: Env, core: CoreConfig): PasskeysConfig {
  const app = appUrl(env);
  const fallbackOrigin = app?.origin ?? (core.isProduction ? undefined : `http://localhost:${core.port}`);
  const fallbackRpId = app?.hostname ?? (core.isProduction ? undefined : 'localhost');

  const rpId = str(env, 'WEBAUTHN_RP_ID')?.toLowerCase() ?? fallbackRpId;
  if (!rpId) throw new ConfigError('WEBAUTHN_RP_ID', "is required in production (the site's domain passkeys are bound to, e.g. example.com), or set APP_URL");
  if (!HOSTNAME.test(rpId)) throw new ConfigError('WEBAUTHN_RP_ID', `must be a domain name without scheme or port (e.g. example.com), got "${rpId}"`);

  const rawOrigins = str(env, 'WEBAUTHN_ORIGINS') ?? fallbackOrigin;
  if (!rawOrigins) throw new ConfigError('WEBAUTHN_ORIGINS', 'is required in production (comma-separated origins such as https://app.example.com), or set APP_URL');
  const origins = rawOrigins
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => checkOrigin(o, rpId));
  if (origins.length === 0) throw new ConfigError('WEBAUTHN_ORIGINS', 'must name at least one origin');

  const rpName = str(env, 'WEBAUTHN_RP_NAME') ?? 'Bouncer';
  if (rpName.length > MAX_RP_NAME_CHARS) throw new ConfigError('WEBAUTHN_RP_NAME', `must be at most ${MAX_RP_NAME_CHARS} characters`);

  return {
    rpId,
    rpName,
    origins: [...new Set(origins)],
    demoPage: bool(env, 'DEMO_PAGE', !core.isProduction),
    // Outside production every client is usually 127.0.0.1 (a developer, a test suite).
    ceremoniesPerWindow: int(env, 'PASSKEY_CEREMONIES_PER_WINDOW', core.isProduction ? 300 : 100_000, 1, 10_000_000),
    ceremonyWindowSeconds: core.limits.ipWindowSeconds,
  };
}

/**
 * An origin as browsers write it in clientDataJSON (scheme, host, port; no path), on the RP ID or
 * a subdomain of it (browsers refuse any other pair), and https unless it is localhost.
 */
function checkOrigin(raw: string, rpId: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('WEBAUTHN_ORIGINS', `each origin must look like https://app.example.com, got "${raw}"`);
  }
  if (url.origin !== raw.replace(/\/$/, '') || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError('WEBAUTHN_ORIGINS', `each origin must be scheme://host[:port] without a path, got "${raw}"`);
  }
  const host = url.hostname;
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new ConfigError('WEBAUTHN_ORIGINS', `origin ${url.origin} is not on the RP ID ${rpId} (WEBAUTHN_RP_ID) or a subdomain of it`);
  }
  if (url.protocol === 'http:' && host !== 'localhost' && !host.endsWith('.localhost')) {
    throw new ConfigError('WEBAUTHN_ORIGINS', `origin ${url.origin} must use https (browsers allow WebAuthn over http on localhost only)`);
  }
  return url.origin;
}

export function passkeyPolicies(config: PasskeysConfig, core: CoreConfig): ThrottlePolicy[] {
  return [
    { name: PasskeyLimit.FAILURES_BY_ADDRESS, points: core.limits.ipFailuresPerWindow, windowSeconds: core.limits.ipWindowSeconds, onSuccess: 'refund' },
    { name: PasskeyLimit.CEREMONIES_BY_ADDRESS, points: config.ceremoniesPerWindow, windowSeconds: config.ceremonyWindowSeconds, onSuccess: 'keep' },
  ];
}
