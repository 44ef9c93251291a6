import { DataSource } from 'typeorm';
import { AccountCreatedHooks } from '../users/account-created';
import { MailboxProvenHooks } from '../users/mailbox-proven';
import { Throttle } from '../abuse/throttle';
import { LoggerToken } from '../app/tokens';
import { AuditService } from '../audit/audit.service';
import { Encryptor } from '../crypto/encryption';
import { defineModule } from '../module';
import { addSignInMethodCounter, signInMethodCounters } from '../sign-in/sign-in-method-counters';
import { SignInService } from '../sign-in/sign-in.service';
import { countLinks, LinkedAccountsService, OAUTH_METHOD_COUNTER } from './linked-accounts.service';
import { LinkedAccountEntity } from './linked-account.entity';
import { OAuth1733400000000 } from './migrations/1733400000000-oauth';
import { oauthPolicies, readOAuthConfig, type OAuthConfig } from './oauth.config';
import { OAuthErrors } from './oauth.errors';
import { OAuthEvent } from './oauth.events';
import { OAuthFlowEntity } from './oauth-flow.entity';
import { OAuthFlowService } from './oauth-flow.service';
import { OAuthFlowStore } from './oauth-flows';
import { OAuthLoginService } from './oauth-login.service';
import { OAuthResolver } from './oauth.resolver';
import { ProviderRegistry } from './providers/provider-registry';
import { dropUnprovenLinks } from './unproven-links';

/** Spent and expired flows are useless at once; a day keeps them for debugging a failed sign-in. */
const FLOW_RETENTION_SECONDS = 24 * 60 * 60;

/** Sign-in with OpenID Connect providers and GitHub, and linking provider accounts (contract.oauth.graphql). */
export const oauthModule = defineModule<OAuthConfig>({
  name: 'oauth',
  readConfig: readOAuthConfig,
  entities: [OAuthFlowEntity, LinkedAccountEntity],
  migrations: [OAuth1733400000000],
  errors: OAuthErrors.catalogue,
  auditEvents: Object.values(OAuthEvent),
  throttlePolicies: oauthPolicies,
  // Provider client secrets (config), the client's PKCE verifier, provider tokens if a library logs them.
  secretFields: ['clientSecret', 'client_secret', 'codeVerifier', 'code_verifier', 'state', 'id_token', 'idToken', 'access_token', 'refresh_token', 'OAUTH_PROVIDERS'],
  resolvers: [OAuthResolver],
  cleanupJobs: () => [
    {
      name: 'oauthFlows',
      sql: `DELETE FROM oauth_flows WHERE id IN (
              SELECT id FROM oauth_flows WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params: [FLOW_RETENTION_SECONDS],
    },
  ],
  personalData: (c) => async (userId) => ({
    linkedAccounts: await c
      .get(DataSource)
      .query('SELECT id, provider, subject, email, email_verified, created_at, last_used_at FROM linked_accounts WHERE user_id = $1 ORDER BY created_at', [userId]),
  }),
  register(c, config) {
    const dataSource = c.get(DataSource);
    const providers = c.set(ProviderRegistry, ProviderRegistry.fromConfig(config, c.get(LoggerToken)));
    const store = new OAuthFlowStore(dataSource, c.get(Encryptor));
    const flows = c.set(OAuthFlowService, new OAuthFlowService(providers, store, c.get(Throttle), c.get(LoggerToken), config));
    const login = c.set(OAuthLoginService, new OAuthLoginService(dataSource, flows, c.get(SignInService), c.get(AuditService), c.get(Throttle), c.get(AccountCreatedHooks)));
    const links = c.set(LinkedAccountsService, new LinkedAccountsService(dataSource, flows, c.get(AuditService), () => signInMethodCounters(c)));
    // Other modules that remove a way in (passkeys) count this module's links before removing the last one.
    addSignInMethodCounter(c, { name: OAUTH_METHOD_COUNTER, count: countLinks });
    c.get(MailboxProvenHooks).add(dropUnprovenLinks(c.get(AuditService)));
    c.set(OAuthResolver, new OAuthResolver(providers, flows, login, links));
  },
  start(c) {
    // Discovery in the background: a provider that is down answers OAUTH_FAILED, it never stops the start.
    c.get(ProviderRegistry).warmUp();
  },
});
