import { randomBytes } from 'node:crypto';
import { operation } from './operations';
import type { TestServer } from './test-server';

/** The client operations of schema/operations/auth.graphql, as a frontend sends them. */
export const REGISTER = operation('Register');
export const LOGIN = operation('Login');

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
