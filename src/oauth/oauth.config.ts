import type { ThrottlePolicy } from '../abuse/throttle-policy';
import type { CoreConfig } from '../config/core-config';
import { ConfigError, int, str, type Env } from '../config/parse';

/** An OpenID Connect provider: endpoints and keys come from its discovery document. */
export interface OidcProviderConfig {
  type: 'oidc';
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  /** How the client authenticates at the token endpoint (OpenID Connect's default: basic). */
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post';
}

/** GitHub: plain OAuth 2.0 (no ID token); the identity comes from its REST API. */
export interface GithubProviderConfig {
  type: 'github';
  id: string;
  name: string;
  /** What an RFC 9207 `iss` in GitHub's callback must equal, when one is sent. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  apiBaseUrl: string;
}

export type ProviderConfig = OidcProviderConfig | GithubProviderConfig;

export interface OAuthConfig {
  providers: ProviderConfig[];
  /** Exact-match allowlist of the client pages a provider may send the browser back to. */
  redirectUris: string[];
  /** Flows one client address may start per window (each is a database row and an outbound call). */
  startsPerWindow: number;
  startWindowSeconds: number;
}

export const OAuthLimit = { STARTS_BY_ADDRESS: 'oauth:start:ip' } as const;

const PROVIDERS = 'OAUTH_PROVIDERS';
const REDIRECT_URIS = 'OAUTH_REDIRECT_URIS';
const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_PROVIDERS = 20;
const MAX_REDIRECT_URIS = 50;
const MAX_FIELD_CHARS = 2048;
const DEFAULT_OIDC_SCOPES = 'openid email profile';
const GITHUB_DEFAULTS = {
  issuer: 'https://github.com',
  scopes: 'read:user user:email',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  apiBaseUrl: 'https://api.github.com',
};
const OIDC_KEYS = new Set(['id', 'type', 'name', 'issuer', 'clientId', 'clientSecret', 'scopes', 'tokenEndpointAuthMethod']);
const GITHUB_KEYS = new Set(['id', 'type', 'name', 'issuer', 'clientId', 'clientSecret', 'scopes', 'authorizationEndpoint', 'tokenEndpoint', 'apiBaseUrl']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function readOAuthConfig(env: Env, core: CoreConfig): OAuthConfig {
  const providers = readProviders(str(env, PROVIDERS), core);
  const redirectUris = readRedirectUris(str(env, REDIRECT_URIS), core);
  if (providers.length > 0 && redirectUris.length === 0) throw new ConfigError(REDIRECT_URIS, `is required when ${PROVIDERS} names a provider`);
  return {
    providers,
    redirectUris,
    // Outside production every client is usually 127.0.0.1 (a developer, a test suite).
    startsPerWindow: int(env, 'OAUTH_STARTS_PER_WINDOW', core.isProduction ? 100 : 10_000, 1, 1_000_000),
    startWindowSeconds: int(env, 'OAUTH_START_WINDOW_SECONDS', 15 * 60, 1, 24 * 60 * 60),
  };
}

export function oauthPolicies(config: OAuthConfig): ThrottlePolicy[] {
  return [{ name: OAuthLimit.STARTS_BY_ADDRESS, points: config.startsPerWindow, windowSeconds: config.startWindowSeconds, onSuccess: 'keep' }];
}

/** Parses the JSON array. Messages name the provider and field, never a value (a value may be a secret). */
function readProviders(raw: string | undefined, core: CoreConfig): ProviderConfig[] {
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(PROVIDERS, 'must be a JSON array of provider objects (the value is not valid JSON)');
  }
  if (!Array.isArray(parsed)) throw new ConfigError(PROVIDERS, 'must be a JSON array of provider objects');
  if (parsed.length > MAX_PROVIDERS) throw new ConfigError(PROVIDERS, `at most ${MAX_PROVIDERS} providers`);
  const providers = parsed.map((entry, index) => readProvider(entry, index, core));
  const ids = new Set<string>();
  for (const p of providers) {
    if (ids.has(p.id)) throw new ConfigError(PROVIDERS, `provider id "${p.id}" appears twice`);
    ids.add(p.id);
  }
  return providers;
}

function readProvider(entry: unknown, index: number, core: CoreConfig): ProviderConfig {
  const where = `provider #${index + 1}`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(PROVIDERS, `${where} must be an object`);
  const o = entry as Record<string, unknown>;
  const text = (key: string, required: boolean): string | undefined => {
    const value = o[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_FIELD_CHARS) {
      throw new ConfigError(PROVIDERS, `${where}: "${key}" must be a non-empty string`);
    }
    return value.trim();
  };
  const id = text('id', true)!;
  if (!PROVIDER_ID.test(id)) throw new ConfigError(PROVIDERS, `${where}: "id" must be 1 to 32 of a-z, 0-9, "_" or "-", starting with a letter or digit`);
  const at = `provider "${id}"`;
  const type = text('type', false) ?? 'oidc';
  if (type !== 'oidc' && type !== 'github') throw new ConfigError(PROVIDERS, `${at}: "type" must be "oidc" or "github"`);
  const allowed = type === 'oidc' ? OIDC_KEYS : GITHUB_KEYS;
  const unknown = Object.keys(o).filter((k) => !allowed.has(k));
  if (unknown.length) throw new ConfigError(PROVIDERS, `${at}: unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}`);
  const url = (key: string, fallback?: string): string => {
    const value = text(key, fallback === undefined) ?? fallback!;
    checkUrl(value, PROVIDERS, `${at}: "${key}"`, core, type === 'oidc');
    return value;
  };
  const common = { id, clientId: text('clientId', true)!, clientSecret: text('clientSecret', true)! };
  if (type === 'oidc') {
    const method = text('tokenEndpointAuthMethod', false) ?? 'client_secret_basic';
    if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
      throw new ConfigError(PROVIDERS, `${at}: "tokenEndpointAuthMethod" must be client_secret_basic or client_secret_post`);
    }
    const scopes = text('scopes', false) ?? DEFAULT_OIDC_SCOPES;
    if (!scopes.split(/\s+/).includes('openid')) throw new ConfigError(PROVIDERS, `${at}: "scopes" must include openid`);
    return { type, ...common, name: text('name', false) ?? id, issuer: url('issuer'), scopes, tokenEndpointAuthMethod: method };
  }
  return {
    type,
    ...common,
    name: text('name', false) ?? 'GitHub',
    issuer: text('issuer', false) ?? GITHUB_DEFAULTS.issuer,
    scopes: text('scopes', false) ?? GITHUB_DEFAULTS.scopes,
    authorizationEndpoint: url('authorizationEndpoint', GITHUB_DEFAULTS.authorizationEndpoint),
    tokenEndpoint: url('tokenEndpoint', GITHUB_DEFAULTS.tokenEndpoint),
    apiBaseUrl: url('apiBaseUrl', GITHUB_DEFAULTS.apiBaseUrl).replace(/\/+$/, ''),
  };
}

function readRedirectUris(raw: string | undefined, core: CoreConfig): string[] {
  if (raw === undefined) return [];
  const uris = raw.split(',').map((u) => u.trim()).filter(Boolean);
  if (uris.length > MAX_REDIRECT_URIS) throw new ConfigError(REDIRECT_URIS, `at most ${MAX_REDIRECT_URIS} URIs`);
  for (const uri of uris) {
    checkUrl(uri, REDIRECT_URIS, `"${uri}"`, core, false);
    const parsed = new URL(uri);
    // The token request repeats the redirect URI without query or fragment: such a URI could never match.
    if (parsed.search || parsed.hash || uri.includes('#') || uri.includes('?')) throw new ConfigError(REDIRECT_URIS, `"${uri}" must not have a query or fragment`);
  }
  return [...new Set(uris)];
}

/**
 * An absolute http(s) URL. HTTPS always for OpenID Connect issuers (the client library refuses
 * anything else); elsewhere HTTPS in production, except loopback addresses (RFC 8252 native apps).
 */
function checkUrl(value: string, variable: string, what: string, core: CoreConfig, httpsOnly: boolean): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `${what} must be an absolute URL`);
  }
  if (url.protocol === 'https:') return;
  const plainAllowed = !httpsOnly && (!core.isProduction || LOOPBACK_HOSTS.has(url.hostname));
  if (url.protocol !== 'http:' || !plainAllowed) throw new ConfigError(variable, `${what} must be an https:// URL`);
}
