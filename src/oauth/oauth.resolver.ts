import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ChecksCredentials } from '../abuse/credential-check';
import type { GraphQLContext } from '../context/context';
import { viewerOf } from '../context/viewer';
import { Auth } from '../guards/auth.decorator';
import { LoginResult, type SignInResult } from '../sign-in/sign-in.types';
import type { LinkedAccountsService } from './linked-accounts.service';
import type { OAuthLoginService } from './oauth-login.service';
import type { OAuthFlowService } from './oauth-flow.service';
import { LinkedAccount, OAuthAuthorization, OAuthProvider } from './oauth.types';
import type { ProviderRegistry } from './providers/provider-registry';

@Resolver()
export class OAuthResolver {
  constructor(
    private readonly providers: ProviderRegistry,
    private readonly flows: OAuthFlowService,
    private readonly login: OAuthLoginService,
    private readonly links: LinkedAccountsService,
  ) {}

  @Query(() => [OAuthProvider], { description: 'Providers configured on this instance; empty when none.' })
  oauthProviders(): OAuthProvider[] {
    return this.providers.providers.map((p) => Object.assign(new OAuthProvider(), { id: p.id, name: p.name }));
  }

  @Auth()
  @Query(() => [LinkedAccount], { description: "The provider accounts linked to the caller's account." })
  linkedAccounts(@Ctx() ctx: GraphQLContext): Promise<LinkedAccount[]> {
    return this.links.list(viewerOf(ctx));
  }

  @Mutation(() => OAuthAuthorization, {
    description:
      'Starts a sign-in with a provider. redirectUri must be on the configured allowlist (exact match). codeChallenge is ' +
      'BASE64URL(SHA-256(codeVerifier)) of a secret the client keeps (RFC 7636, S256): only the client that started the flow can complete it.',
  })
  async startOAuthLogin(
    @Arg('provider', () => ID) provider: string,
    @Arg('redirectUri') redirectUri: string,
    @Arg('codeChallenge') codeChallenge: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<OAuthAuthorization> {
    return Object.assign(new OAuthAuthorization(), await this.flows.start('login', provider, redirectUri, codeChallenge, ctx.request, null));
  }

  @ChecksCredentials()
  @Mutation(() => LoginResult, {
    description:
      "Completes the flow with the provider's code and state (and iss, when the provider sends it, RFC 9207). Signs in (a TwoFactorChallenge " +
      'when the account has 2FA on), or creates an account. ACCOUNT_LINK_REQUIRED when an account with this address exists but cannot be linked safely.',
  })
  completeOAuthLogin(
    @Arg('state') state: string,
    @Arg('code') code: string,
    @Arg('codeVerifier') codeVerifier: string,
    @Arg('iss', () => String, { nullable: true }) iss: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SignInResult> {
    return this.login.complete({ state, code, codeVerifier, iss }, ctx.request);
  }

  @Auth()
  @Mutation(() => OAuthAuthorization, { description: "Starts linking a provider account to the caller's account (same rules as startOAuthLogin)." })
  async startOAuthLink(
    @Arg('provider', () => ID) provider: string,
    @Arg('redirectUri') redirectUri: string,
    @Arg('codeChallenge') codeChallenge: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<OAuthAuthorization> {
    return Object.assign(new OAuthAuthorization(), await this.links.start(viewerOf(ctx), provider, redirectUri, codeChallenge, ctx.request));
  }

  @Auth()
  @ChecksCredentials()
  @Mutation(() => LinkedAccount, { description: 'Completes linking. OAUTH_ACCOUNT_IN_USE when that provider account belongs to another account.' })
  completeOAuthLink(
    @Arg('state') state: string,
    @Arg('code') code: string,
    @Arg('codeVerifier') codeVerifier: string,
    @Arg('iss', () => String, { nullable: true }) iss: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<LinkedAccount> {
    return this.links.complete(viewerOf(ctx), { state, code, codeVerifier, iss }, ctx.request);
  }

  @Auth()
  @Mutation(() => Boolean, { description: 'Removes a link. LAST_SIGN_IN_METHOD when the account would be left with no way to sign in.' })
  unlinkAccount(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return this.links.unlink(viewerOf(ctx), id, ctx.request);
  }
}
