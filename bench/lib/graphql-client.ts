/** Plain fetch calls for setup and checks (never timed: load goes through autocannon). */
export interface GraphQLResult<T = any> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export async function gql<T = any>(origin: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResult<T>> {
  let res: Response;
  try {
    res = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    // undici says only "fetch failed"; the cause says whether the server refused or reset.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${origin} did not answer: ${cause?.code ?? ''} ${cause?.message ?? (error as Error).message}`.trim());
  }
  const text = await res.text();
  try {
    return { status: res.status, ...(JSON.parse(text) as object) };
  } catch {
    throw new Error(`non-JSON answer ${res.status} from ${origin}: ${text.slice(0, 200)}`);
  }
}

/** Whether a server still answers /healthz (checked between sections: a dead service explains empty rows). */
export async function healthy(origin: string): Promise<string | null> {
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? null : `/healthz answered ${res.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return `/healthz failed: ${cause?.code ?? (error as Error).message}`;
  }
}

export const codeOf = (result: GraphQLResult): string | undefined => result.errors?.[0]?.extensions?.code;

/** Fails with the server's own words when a setup call does not give data. */
export function dataOf<T>(result: GraphQLResult<T>, what: string): T {
  if (result.errors?.length || !result.data) {
    throw new Error(`${what} failed: ${result.status} ${JSON.stringify(result.errors ?? result.data).slice(0, 300)}`);
  }
  return result.data;
}

/** Runs `work` over `items` with at most `limit` at once (setup calls that each cost a bcrypt). */
export async function inParallel<I, O>(items: I[], limit: number, work: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i], i);
      }
    }),
  );
  return out;
}

export const ME_QUERY = 'query Me { me { id email username emailVerified roles twoFactorEnabled createdAt } }';
export const TYPENAME_QUERY = '{ __typename }';
export const LOGIN_MUTATION =
  'mutation Login($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { accessToken refreshToken expiresIn } ... on TwoFactorChallenge { challengeToken expiresIn } } }';
export const REGISTER_MUTATION = 'mutation Register($input: RegisterInput!) { register(input: $input) { accessToken refreshToken } }';
export const REFRESH_MUTATION = 'mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { accessToken refreshToken } }';
export const ENABLE_2FA_MUTATION = 'mutation Enable($password: String!) { enableTwoFactor(password: $password) { secret } }';
export const CONFIRM_2FA_MUTATION = 'mutation Confirm($code: String!) { confirmTwoFactor(code: $code) { codes } }';
export const VERIFY_2FA_MUTATION =
  'mutation Verify($input: VerifyTwoFactorInput!) { verifyTwoFactor(input: $input) { accessToken refreshToken } }';
