import type { GithubProviderConfig } from '../oauth.config';
import { describeError, ProviderError, providerEmail, type AuthorizationRequest, type AuthorizationResponse, type OAuthProviderClient, type ProviderIdentity } from './provider';

/** Every call to GitHub gives up after this, ms. */
const GITHUB_TIMEOUT_MS = 10_000;
const GITHUB_API_VERSION = '2022-11-28';
/** GitHub user ids are positive integers; anything else is not GitHub talking. */
const GITHUB_USER_ID = /^[1-9]\d{0,19}$/;

interface GithubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

/**
 * GitHub as a plain OAuth 2.0 provider (it issues no ID token): authorization code with PKCE
 * (S256), the identity from its REST API. The subject is the numeric user id (a login can be
 * renamed and reused); only the primary address counts, and only when GitHub verified it.
 * The access token is used for these two calls and dropped: never stored or logged.
 */
export class GithubProvider implements OAuthProviderClient {
  readonly usesNonce = false;

  constructor(private readonly config: GithubProviderConfig) {}

  get id(): string {
    return this.config.id;
  }

  get name(): string {
    return this.config.name;
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<string> {
    const url = new URL(this.config.authorizationEndpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', request.redirectUri);
    url.searchParams.set('scope', this.config.scopes);
    url.searchParams.set('state', request.state);
    url.searchParams.set('code_challenge', request.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  async identify(response: AuthorizationResponse): Promise<ProviderIdentity> {
    // RFC 9207: a response that names another issuer came from another server (mix-up).
    if (response.iss !== null && response.iss !== this.config.issuer) throw new ProviderError('iss does not name this provider');
    const accessToken = await this.redeem(response);
    const user = (await this.api(accessToken, '/user')) as { id?: unknown };
    const subject = typeof user?.id === 'number' || typeof user?.id === 'string' ? String(user.id) : '';
    if (!GITHUB_USER_ID.test(subject)) throw new ProviderError('GitHub user has no numeric id');
    const emails = await this.api(accessToken, '/user/emails');
    const primary = Array.isArray(emails) ? (emails as GithubEmail[]).find((e) => e?.primary === true) : undefined;
    const email = primary?.verified === true ? providerEmail(primary.email) : null;
    return { subject, email, emailVerified: email !== null };
  }

  private async redeem(response: AuthorizationResponse): Promise<string> {
    const body = new URLSearchParams({
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      code: response.code,
      redirect_uri: response.redirectUri,
      code_verifier: response.codeVerifier,
    });
    const json = await this.call(this.config.tokenEndpoint, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    // GitHub answers a refused code with 200 and an `error` field.
    const token = (json as { access_token?: unknown; error?: unknown }).access_token;
    if (typeof token !== 'string' || !token) {
      const error = (json as { error?: unknown }).error;
      throw new ProviderError(`token endpoint refused the code (${typeof error === 'string' ? error.slice(0, 64) : 'no access_token'})`);
    }
    return token;
  }

  private api(accessToken: string, path: string): Promise<unknown> {
    return this.call(`${this.config.apiBaseUrl}${path}`, {
      method: 'GET',
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${accessToken}`, 'x-github-api-version': GITHUB_API_VERSION },
    });
  }

  private async call(url: string, init: { method: string; headers: Record<string, string>; body?: URLSearchParams }): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers: { 'user-agent': 'Bouncer', ...init.headers }, redirect: 'error', signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS) });
    } catch (error) {
      throw new ProviderError(`GitHub unreachable: ${describeError(error)}`);
    }
    const path = new URL(url).pathname;
    if (!res.ok) throw new ProviderError(`GitHub answered ${res.status} on ${path}`);
    try {
      return await res.json();
    } catch {
      throw new ProviderError(`GitHub sent no JSON on ${path}`);
    }
  }
}
