import type { Logger } from 'pino';
import type { Throttle } from '../abuse/throttle';
import type { RequestInfo } from '../context/request-info';
import { OAuthLimit, type OAuthConfig } from './oauth.config';
import { OAuthErrors } from './oauth.errors';
import { FLOW_TTL_SECONDS, type FlowKind, type OAuthFlowStore } from './oauth-flows';
import { isCodeChallenge, verifierMatches } from './pkce';
import { describeError, type OAuthProviderClient, type ProviderIdentity } from './providers/provider';
import type { ProviderRegistry } from './providers/provider-registry';

const MAX_CODE_CHARS = 2048;
const MAX_ISS_CHARS = 2048;

export interface OAuthAuthorizationResult {
  authorizationUrl: string;
  state: string;
  expiresIn: number;
}

/** What completeOAuthLogin / completeOAuthLink receive from the client. */
export interface CallbackInput {
  state: string;
  code: string;
  codeVerifier: string;
  iss?: string | null;
}

export interface FinishedFlow {
  provider: OAuthProviderClient;
  identity: ProviderIdentity;
}

/**
 * The two ends of a flow, shared by sign-in and linking. Start: the provider is configured, the
 * redirect URI is on the allowlist (exact match), the client's S256 challenge is well formed; the
 * flow is stored and the provider's authorization URL returned. Finish: the state names a live
 * flow of this kind (and, for a link, of this account), which is spent at once whatever follows;
 * the client's verifier matches the challenge it started with; the provider redeems the code and
 * proves the identity. Every refusal is OAUTH_FAILED, its reason logged (never a secret).
 */
export class OAuthFlowService {
  private readonly redirectUris: ReadonlySet<string>;

  constructor(
    private readonly providers: ProviderRegistry,
    private readonly flows: OAuthFlowStore,
    private readonly throttle: Throttle,
    private readonly logger: Logger,
    config: OAuthConfig,
  ) {
    this.redirectUris = new Set(config.redirectUris);
  }

  async start(kind: FlowKind, providerId: string, redirectUri: string, codeChallenge: string, request: RequestInfo, userId: string | null): Promise<OAuthAuthorizationResult> {
    const provider = typeof providerId === 'string' ? this.providers.get(providerId) : undefined;
    if (!provider) throw this.refuse('unknown provider', kind, null);
    if (typeof redirectUri !== 'string' || !this.redirectUris.has(redirectUri)) throw this.refuse('redirect URI not on the allowlist', kind, provider.id);
    if (!isCodeChallenge(codeChallenge)) throw this.refuse('codeChallenge is not an S256 challenge', kind, provider.id);
    await this.throttle.count([{ policy: OAuthLimit.STARTS_BY_ADDRESS, key: request.ip }]);
    let authorizationUrl: string;
    const started = await this.flows.create({ kind, provider: provider.id, redirectUri, clientCodeChallenge: codeChallenge, userId, withNonce: provider.usesNonce });
    try {
      authorizationUrl = await provider.authorizationUrl({ redirectUri, state: started.state, codeChallenge: started.codeChallenge, nonce: started.nonce });
    } catch (error) {
      await this.flows.consume(started.state); // nothing can finish it: drop it now
      throw this.refuse(`provider not ready: ${describeError(error)}`, kind, provider.id);
    }
    return { authorizationUrl, state: started.state, expiresIn: FLOW_TTL_SECONDS };
  }

  async finish(kind: FlowKind, input: CallbackInput, userId: string | null): Promise<FinishedFlow> {
    const flow = await this.flows.consume(input.state);
    if (!flow) throw this.refuse('unknown, used or expired state', kind, null);
    if (flow.kind !== kind) throw this.refuse(`a ${flow.kind} flow completed as a ${kind}`, kind, flow.provider);
    if (kind === 'link' && flow.userId !== userId) throw this.refuse('link flow completed by another account', kind, flow.provider);
    if (!verifierMatches(input.codeVerifier, flow.clientCodeChallenge)) throw this.refuse('codeVerifier does not match the codeChallenge', kind, flow.provider);
    if (typeof input.code !== 'string' || !input.code || input.code.length > MAX_CODE_CHARS) throw this.refuse('no usable code', kind, flow.provider);
    const iss = input.iss ?? null;
    if (iss !== null && (typeof iss !== 'string' || iss.length > MAX_ISS_CHARS)) throw this.refuse('unusable iss', kind, flow.provider);
    const provider = this.providers.get(flow.provider);
    if (!provider) throw this.refuse('provider no longer configured', kind, flow.provider);
    try {
      const identity = await provider.identify({
        redirectUri: flow.redirectUri,
        code: input.code,
        state: input.state,
        iss,
        codeVerifier: flow.codeVerifier,
        nonce: flow.nonce,
      });
      return { provider, identity };
    } catch (error) {
      throw this.refuse(describeError(error), kind, provider.id);
    }
  }

  private refuse(reason: string, kind: FlowKind, provider: string | null): Error {
    this.logger.info({ provider, kind, reason }, 'oauth flow refused');
    return OAuthErrors.OAUTH_FAILED();
  }
}
