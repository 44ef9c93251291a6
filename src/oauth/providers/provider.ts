/** What a provider proved about the person at the end of a flow. */
export interface ProviderIdentity {
  /** The provider's stable account id (`sub`, GitHub's numeric id): what sign-in is keyed on. */
  subject: string;
  /** Lower-cased; null when the provider shared none Bouncer may use. */
  email: string | null;
  /** True only when the provider says so explicitly. */
  emailVerified: boolean;
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  /** Bouncer's own PKCE challenge (S256) to the provider. */
  codeChallenge: string;
  /** OpenID Connect only. */
  nonce: string | null;
}

export interface AuthorizationResponse {
  redirectUri: string;
  code: string;
  state: string;
  /** RFC 9207: the issuer the client says the response came from, when the provider sent one. */
  iss: string | null;
  /** Bouncer's own PKCE verifier for the token request. */
  codeVerifier: string;
  nonce: string | null;
}

/** One configured provider. Implementations never put a client secret or token in an error message. */
export interface OAuthProviderClient {
  readonly id: string;
  readonly name: string;
  /** Whether the flow carries a nonce (OpenID Connect). */
  readonly usesNonce: boolean;
  authorizationUrl(request: AuthorizationRequest): Promise<string>;
  /** Redeems the code and returns the verified identity; throws ProviderError on any refusal. */
  identify(response: AuthorizationResponse): Promise<ProviderIdentity>;
  /** Fetches what the provider needs before its first use (discovery); never throws. */
  warmUp?(): Promise<void>;
}

/** A provider step that failed. `reason` is for the logs (no secret, no token); clients get OAUTH_FAILED. */
export class ProviderError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'ProviderError';
  }
}

const MAX_REASON_CHARS = 300;

/** A loggable one-line summary of a library or network error: its name, code and message, no cause chain or response. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const detail = (error as { error?: unknown }).error;
    // One level of cause when it is itself an error (a library's own message, e.g. a failed signature check).
    const cause = error.cause instanceof Error ? `(${error.cause.name}: ${error.cause.message})` : null;
    const parts = [error.name, typeof code === 'string' ? code : null, typeof detail === 'string' ? detail : null, error.message, cause].filter(Boolean);
    return parts.join(': ').slice(0, MAX_REASON_CHARS);
  }
  return 'unknown error';
}

/** Emails as Bouncer stores them; null for anything that is not a plausible address. */
export function providerEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const email = value.normalize('NFKC').trim().toLowerCase();
  return email.length > 0 && email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email) ? email : null;
}
