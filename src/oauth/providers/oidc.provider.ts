import type { Logger } from 'pino';
import type { Configuration } from 'openid-client';
import type { OidcProviderConfig } from '../oauth.config';
import { loadOpenIdClient, type OpenIdClientModule } from './openid-client.loader';
import { describeError, ProviderError, providerEmail, type AuthorizationRequest, type AuthorizationResponse, type OAuthProviderClient, type ProviderIdentity } from './provider';

/** Every call to the provider (discovery, token, JWKS, userinfo) gives up after this, seconds. */
const PROVIDER_TIMEOUT_SECONDS = 10;
/** After a failed discovery, calls answer OAUTH_FAILED at once for this long before trying again, ms. */
const RETRY_DISCOVERY_AFTER_MS = 2_000;

interface Discovered {
  lib: OpenIdClientModule;
  configuration: Configuration;
}

/**
 * A generic OpenID Connect provider through openid-client (a certified relying-party library):
 * endpoints and keys from discovery, authorization code with PKCE (S256) and nonce, the ID token's
 * signature (also straight from the token endpoint: non-repudiation checks on), `iss`, `aud`,
 * `exp` and nonce verified by the library, and RFC 9207 `iss` checked when the response carries it
 * (required when the provider advertises it). Discovery runs at start in the background and again
 * at use until it succeeds: a provider that is down never stops the service, it answers
 * OAUTH_FAILED until the provider does.
 */
export class OidcProvider implements OAuthProviderClient {
  readonly usesNonce = true;
  private discovered: Discovered | undefined;
  private discovering: Promise<Discovered> | undefined;
  private failedAt = 0;

  constructor(
    private readonly config: OidcProviderConfig,
    private readonly logger: Logger,
  ) {}

  get id(): string {
    return this.config.id;
  }

  get name(): string {
    return this.config.name;
  }

  async warmUp(): Promise<void> {
    await this.discover().catch(() => undefined);
  }

  async authorizationUrl(request: AuthorizationRequest): Promise<string> {
    const { lib, configuration } = await this.discover();
    return lib.buildAuthorizationUrl(configuration, {
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: this.config.scopes,
      state: request.state,
      nonce: request.nonce ?? '',
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    }).href;
  }

  async identify(response: AuthorizationResponse): Promise<ProviderIdentity> {
    const { lib, configuration } = await this.discover();
    if (!response.nonce) throw new ProviderError('flow has no nonce');
    // The authorization response as it reached the client's redirect URI.
    const callback = new URL(response.redirectUri);
    callback.searchParams.set('code', response.code);
    callback.searchParams.set('state', response.state);
    if (response.iss !== null) callback.searchParams.set('iss', response.iss);
    try {
      const tokens = await lib.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: response.codeVerifier,
        expectedState: response.state,
        expectedNonce: response.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims || typeof claims.sub !== 'string' || !claims.sub) throw new ProviderError('no ID token subject');
      let email: unknown = claims.email;
      let verified: unknown = claims.email_verified;
      // Many providers put email only in userinfo (OpenID Connect 5.4); the library checks its sub is the ID token's.
      if (typeof email !== 'string' && tokens.access_token && configuration.serverMetadata().userinfo_endpoint) {
        const info = await lib.fetchUserInfo(configuration, tokens.access_token, claims.sub);
        email = info.email;
        verified = info.email_verified;
      }
      const address = providerEmail(email);
      // Some providers send the claim as a string; anything but an explicit yes is "not verified".
      return { subject: claims.sub, email: address, emailVerified: address !== null && (verified === true || verified === 'true') };
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(`code or ID token refused: ${describeError(error)}`);
    }
  }

  private discover(): Promise<Discovered> {
    if (this.discovered) return Promise.resolve(this.discovered);
    if (this.discovering) return this.discovering;
    if (Date.now() - this.failedAt < RETRY_DISCOVERY_AFTER_MS) return Promise.reject(new ProviderError('provider unavailable (discovery failed recently)'));
    this.discovering = this.runDiscovery().finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async runDiscovery(): Promise<Discovered> {
    try {
      const lib = await loadOpenIdClient();
      const auth = this.config.tokenEndpointAuthMethod === 'client_secret_post' ? lib.ClientSecretPost(this.config.clientSecret) : lib.ClientSecretBasic(this.config.clientSecret);
      const configuration = await lib.discovery(new URL(this.config.issuer), this.config.clientId, undefined, auth, {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        // Verify ID token signatures even from the token endpoint (the library skips that by default).
        execute: [lib.enableNonRepudiationChecks],
      });
      this.discovered = { lib, configuration };
      this.logger.info({ provider: this.config.id }, 'oauth provider discovered');
      return this.discovered;
    } catch (error) {
      this.failedAt = Date.now();
      this.logger.warn({ provider: this.config.id, reason: describeError(error) }, 'oauth provider discovery failed');
      throw new ProviderError(`discovery failed: ${describeError(error)}`);
    }
  }
}
