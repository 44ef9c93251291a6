import type { Logger } from 'pino';
import type { OAuthConfig } from '../oauth.config';
import { GithubProvider } from './github.provider';
import { OidcProvider } from './oidc.provider';
import type { OAuthProviderClient } from './provider';

/** The configured providers, by id, in configuration order. */
export class ProviderRegistry {
  private readonly byId = new Map<string, OAuthProviderClient>();

  constructor(readonly providers: OAuthProviderClient[]) {
    for (const p of providers) this.byId.set(p.id, p);
  }

  static fromConfig(config: OAuthConfig, logger: Logger): ProviderRegistry {
    return new ProviderRegistry(config.providers.map((p) => (p.type === 'github' ? new GithubProvider(p) : new OidcProvider(p, logger))));
  }

  get(id: string): OAuthProviderClient | undefined {
    return this.byId.get(id);
  }

  /** Starts every provider's discovery without waiting: the service starts whether they answer or not. */
  warmUp(): void {
    for (const p of this.providers) void p.warmUp?.();
  }
}
