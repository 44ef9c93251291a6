import { LOGIN, type TestAccount } from '../support/accounts';
import { operation } from '../support/operations';
import type { GraphQLResponse, TestServer } from '../support/test-server';
import { SoftAuthenticator, type Tweaks } from './soft-authenticator';

/** The relying party the tests configure: a production-like https origin on its own RP ID. */
export const RP_ID = 'bouncer.test';
export const ORIGIN = 'https://bouncer.test';
export const PASSKEY_ENV = { WEBAUTHN_RP_ID: RP_ID, WEBAUTHN_ORIGINS: ORIGIN };

export const OP = {
  passkeys: operation('Passkeys'),
  startRegistration: operation('StartPasskeyRegistration'),
  finishRegistration: operation('FinishPasskeyRegistration'),
  startLogin: operation('StartPasskeyLogin'),
  finishLogin: operation('FinishPasskeyLogin'),
  startSecondFactor: operation('StartTwoFactorPasskey'),
  verifySecondFactor: operation('VerifyTwoFactorPasskey'),
  rename: operation('RenamePasskey'),
  remove: operation('DeletePasskey'),
};

type Response = GraphQLResponse<Record<string, any>>;
export type Send = (query: string, variables?: Record<string, unknown>, token?: string) => Promise<Response>;

export function sender(server: TestServer): Send {
  return (query, variables = {}, token) => server.gql(query, variables, token);
}

/** A browser on the right origin, with a fresh authenticator. */
export function browser(options: ConstructorParameters<typeof SoftAuthenticator>[1] = {}): SoftAuthenticator {
  return new SoftAuthenticator(ORIGIN, options);
}

export async function startRegistration(server: TestServer, account: TestAccount, password: string | null = account.password): Promise<{ challengeId: string; options: Record<string, any>; expiresIn: number }> {
  const res = await server.gql(OP.startRegistration, { password }, account.accessToken);
  if (!res.data?.startPasskeyRegistration) throw new Error(`startPasskeyRegistration failed: ${JSON.stringify(res.errors)}`);
  return res.data.startPasskeyRegistration;
}

/** Registers a passkey of `authenticator` for the account; returns the response of finishPasskeyRegistration. */
export async function register(server: TestServer, account: TestAccount, authenticator: SoftAuthenticator, tweaks: Tweaks = {}, name?: string): Promise<Response> {
  const { challengeId, options } = await startRegistration(server, account);
  return server.gql(OP.finishRegistration, { challengeId, response: authenticator.register(options, tweaks), name }, account.accessToken);
}

/** register() that must succeed: the new passkey. */
export async function addPasskey(server: TestServer, account: TestAccount, authenticator: SoftAuthenticator, name?: string): Promise<Record<string, any>> {
  const res = await register(server, account, authenticator, {}, name);
  if (!res.data?.finishPasskeyRegistration) throw new Error(`finishPasskeyRegistration failed: ${JSON.stringify(res.errors)}`);
  return res.data.finishPasskeyRegistration;
}

export async function startLogin(send: Send): Promise<{ challengeId: string; options: Record<string, any> }> {
  const res = await send(OP.startLogin);
  if (!res.data?.startPasskeyLogin) throw new Error(`startPasskeyLogin failed: ${JSON.stringify(res.errors)}`);
  return res.data.startPasskeyLogin;
}

/** A passwordless sign-in: startPasskeyLogin, the authenticator's assertion, finishPasskeyLogin. */
export async function passkeyLogin(send: Send, authenticator: SoftAuthenticator, tweaks: Tweaks = {}): Promise<Response> {
  const { challengeId, options } = await startLogin(send);
  return send(OP.finishLogin, { challengeId, response: authenticator.assert(options, tweaks) });
}

/** The password step of an account with 2FA on: its TwoFactorChallenge. */
export async function passwordStep(server: TestServer, account: TestAccount): Promise<{ challengeToken: string; methods: string[] }> {
  const res = await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } });
  if (res.data?.login?.__typename !== 'TwoFactorChallenge') throw new Error(`expected a TwoFactorChallenge: ${JSON.stringify(res)}`);
  return res.data.login;
}

export async function startSecondFactor(server: TestServer, challengeToken: string): Promise<{ challengeId: string; options: Record<string, any> }> {
  const res = await server.gql(OP.startSecondFactor, { challengeToken });
  if (!res.data?.startTwoFactorPasskey) throw new Error(`startTwoFactorPasskey failed: ${JSON.stringify(res.errors)}`);
  return res.data.startTwoFactorPasskey;
}

/** Answers a TwoFactorChallenge with the authenticator's passkey. */
export async function secondFactor(server: TestServer, challengeToken: string, authenticator: SoftAuthenticator, tweaks: Tweaks = {}): Promise<Response> {
  const { challengeId, options } = await startSecondFactor(server, challengeToken);
  return server.gql(OP.verifySecondFactor, { challengeToken, challengeId, response: authenticator.assert(options, tweaks) });
}

/** The `data` of an account's audit events of one type, oldest first. */
export async function auditData(server: TestServer, userId: string | null, type: string): Promise<Array<Record<string, any>>> {
  const rows: Array<{ data: Record<string, any> }> = await server.running.services.dataSource.query(
    `SELECT data FROM audit_events WHERE type = $1 AND user_id IS NOT DISTINCT FROM $2 ORDER BY id`,
    [type, userId],
  );
  return rows.map((r) => r.data);
}
