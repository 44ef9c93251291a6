import { randomBytes } from 'node:crypto';
import type { TestServer } from './test-server';

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken expiresIn tokenType user { id email username roles twoFactorEnabled emailVerified createdAt } }
  }`;

export const LOGIN = /* GraphQL */ `
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      __typename
      ... on AuthPayload { accessToken refreshToken expiresIn user { id email } }
      ... on TwoFactorChallenge { challengeToken expiresIn }
    }
  }`;

export interface TestAccount {
  id: string;
  email: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}@example.com`;
}

/** A new account with a strong password that no rule refuses. */
export async function registerAccount(server: TestServer, overrides: { email?: string; username?: string; password?: string } = {}): Promise<TestAccount> {
  const email = overrides.email ?? uniqueEmail();
  const username = overrides.username ?? `u_${randomBytes(5).toString('hex')}`;
  const password = overrides.password ?? `Tr0ub4dor&3-${randomBytes(6).toString('hex')}`;
  const res = await server.gql(REGISTER, { input: { email, username, password } });
  if (!res.data?.register) throw new Error(`register failed: ${JSON.stringify(res.errors)}`);
  const payload = res.data.register;
  return { id: payload.user.id, email: email.toLowerCase(), username, password, accessToken: payload.accessToken, refreshToken: payload.refreshToken };
}
