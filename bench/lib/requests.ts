import { LOGIN_MUTATION, ME_QUERY, REGISTER_MUTATION, TYPENAME_QUERY } from './graphql-client';
import type { LoadRequest } from './load';
import { SEED_PASSWORD, seedEmail, WRONG_PASSWORD } from './seed';

/** The request bodies and checks every scenario builds its load from. */

const body = (query: string, variables?: Record<string, unknown>): string => JSON.stringify(variables ? { query, variables } : { query });
const ME_BODY = body(ME_QUERY);
const TYPENAME_BODY = body(TYPENAME_QUERY);
const REFRESH_TOKEN_FIELD = /"refreshToken":"([^"]+)"/;

export const hasMe = (_status: number, text: string): boolean => text.startsWith('{"data":{"me":{"id":');
export const isInvalidCredentials = (_status: number, text: string): boolean => text.includes('"INVALID_CREDENTIALS"');
export const hasAccessToken = (_status: number, text: string): boolean => text.includes('"accessToken":"') && !text.includes('"errors"');

export function refreshTokenIn(text: string): string | undefined {
  return REFRESH_TOKEN_FIELD.exec(text)?.[1];
}

/** Rotates over many accounts' access tokens, each request sending the next one. */
function bearerRotation(tokens: string[]): () => Record<string, string> {
  let next = 0;
  return () => ({ authorization: `Bearer ${tokens[next++ % tokens.length]}` });
}

/** `me` with rotating tokens (Bouncer R3 and the raw R3'). */
export function meRequest(tokens: string[], tag = 'me'): LoadRequest {
  const bearer = bearerRotation(tokens);
  return { tag, build: () => ({ body: ME_BODY, headers: bearer() }), expect: hasMe };
}

/**
 * `me` with a token never presented before on every request (from `tokens`, each used once; if
 * they run out the rotation starts over and `reused()` counts how often).
 */
export function coldMeRequest(tokens: string[], tag = 'me'): LoadRequest & { reused(): number } {
  let next = 0;
  return {
    tag,
    build: () => ({ body: ME_BODY, headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
    expect: hasMe,
    reused: () => Math.max(0, next - tokens.length),
  };
}

/** `{ __typename }` with the same rotating Bearer header as `me`, so every rung gets the same request size. */
export function typenameRequest(tokens: string[], tag: string): LoadRequest {
  const bearer = bearerRotation(tokens);
  return { tag, build: () => ({ body: TYPENAME_BODY, headers: bearer() }), expect: (_s, text) => text.includes('"__typename":"Query"') };
}

export type LoginKind = 'valid' | 'unknown' | 'wrong';

/**
 * Logins rotating over accounts u1..u<accounts> (valid, wrong password) or over identifiers no
 * account has (unknown): per-account counters never come near a lock.
 */
export function loginRequest(
  kind: LoginKind,
  accounts: number,
  tag: string,
  onRefreshToken?: (token: string) => void,
  spread: 'rotate' | 'random' = 'rotate',
): LoadRequest {
  let next = 0;
  const unknownPrefix = `nobody-${process.pid}-${Date.now()}`;
  return {
    tag,
    build: () => {
      // Random: a short run must touch rows all over a large table, not its first few pages.
      const i = next++;
      const n = spread === 'random' ? 1 + Math.floor(Math.random() * accounts) : (i % accounts) + 1;
      const identifier = kind === 'unknown' ? `${unknownPrefix}-${n}-${next}@bench.test` : seedEmail(n);
      const password = kind === 'wrong' ? WRONG_PASSWORD : SEED_PASSWORD;
      return { body: body(LOGIN_MUTATION, { input: { identifier, password } }) };
    },
    expect: kind === 'valid' ? hasAccessToken : isInvalidCredentials,
    after: onRefreshToken
      ? (_status, text) => {
          const token = refreshTokenIn(text);
          if (token) onRefreshToken(token);
        }
      : undefined,
  };
}

/** Registrations of fresh accounts, each with a new email. */
export function registerRequest(tag: string): LoadRequest {
  let next = 0;
  const prefix = `r${process.pid}-${Date.now()}`;
  return {
    tag,
    build: () => ({ body: body(REGISTER_MUTATION, { input: { email: `${prefix}-${next++}@bench.test`, password: SEED_PASSWORD } }) }),
    expect: hasAccessToken,
  };
}

export { body as graphQLBody };
