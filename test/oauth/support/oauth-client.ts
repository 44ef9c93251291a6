import { createHash, randomBytes } from 'node:crypto';
import { operation } from '../../support/operations';
import type { GraphQLResponse } from '../../support/test-server';

/** The front end's callback page on the allowlist (never visited: the test reads the redirect). */
export const REDIRECT_URI = 'https://app.example.test/oauth/callback';
export const OTHER_REDIRECT_URI = 'https://app.example.test/oauth/link-callback';

export const OAUTH_OPS = {
  providers: operation('OAuthProviders'),
  linked: operation('LinkedAccounts'),
  startLogin: operation('StartOAuthLogin'),
  completeLogin: operation('CompleteOAuthLogin'),
  startLink: operation('StartOAuthLink'),
  completeLink: operation('CompleteOAuthLink'),
  unlink: operation('UnlinkAccount'),
};

/** How a test talks GraphQL to a service (in-process or a child process). */
export type Send = (query: string, variables?: Record<string, unknown>, token?: string) => Promise<GraphQLResponse<Record<string, any>>>;

/** The browser's trip through the provider: returns what reached the redirect URI. */
export type Authorize = (authorizationUrl: string) => Promise<{ code: string; state: string; iss?: string | null }>;

/** The client's own PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface StartedFlow {
  authorizationUrl: string;
  state: string;
  expiresIn: number;
  verifier: string;
}

/** startOAuthLogin (or startOAuthLink with a token); throws with the response when it fails. */
export async function start(send: Send, provider: string, options: { token?: string; redirectUri?: string } = {}): Promise<StartedFlow> {
  const pkce = pkcePair();
  const link = options.token !== undefined;
  const res = await send(link ? OAUTH_OPS.startLink : OAUTH_OPS.startLogin, { provider, redirectUri: options.redirectUri ?? REDIRECT_URI, codeChallenge: pkce.challenge }, options.token);
  const started = res.data?.[link ? 'startOAuthLink' : 'startOAuthLogin'];
  if (!started) throw new Error(`start failed: ${JSON.stringify(res.errors)}`);
  return { ...started, verifier: pkce.verifier };
}

export function completeLogin(send: Send, args: { state: string; code: string; codeVerifier: string; iss?: string | null }): Promise<GraphQLResponse<Record<string, any>>> {
  return send(OAUTH_OPS.completeLogin, args);
}

export function completeLink(send: Send, token: string, args: { state: string; code: string; codeVerifier: string; iss?: string | null }): Promise<GraphQLResponse<Record<string, any>>> {
  return send(OAUTH_OPS.completeLink, args, token);
}

/** A whole sign-in: start, the provider's pages, complete. */
export async function signIn(send: Send, provider: string, authorize: Authorize): Promise<GraphQLResponse<Record<string, any>>> {
  const flow = await start(send, provider);
  const callback = await authorize(flow.authorizationUrl);
  return completeLogin(send, { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss: callback.iss ?? null });
}

/** A whole explicit link by a signed-in user. */
export async function link(send: Send, token: string, provider: string, authorize: Authorize): Promise<GraphQLResponse<Record<string, any>>> {
  const flow = await start(send, provider, { token });
  const callback = await authorize(flow.authorizationUrl);
  return completeLink(send, token, { state: callback.state, code: callback.code, codeVerifier: flow.verifier, iss: callback.iss ?? null });
}
