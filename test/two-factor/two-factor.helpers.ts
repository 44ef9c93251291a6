import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { Secret, TOTP } from 'otpauth';
import { LOGIN, type TestAccount } from '../support/accounts';
import type { GraphQLResponse, TestServer } from '../support/test-server';

/** The client operations of schema/operations/two-factor.graphql, one printed document each. */
const OPERATIONS = (() => {
  const document = parse(readFileSync(join(__dirname, '../../schema/operations/two-factor.graphql'), 'utf8'));
  const byName = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) {
      byName.set(definition.name.value, print(definition as OperationDefinitionNode));
    }
  }
  return byName;
})();

export type TwoFactorOperation = 'EnableTwoFactor' | 'ConfirmTwoFactor' | 'VerifyTwoFactor' | 'DisableTwoFactor' | 'RegenerateRecoveryCodes';

export function operation(name: TwoFactorOperation): string {
  const text = OPERATIONS.get(name);
  if (!text) throw new Error(`schema/operations/two-factor.graphql has no operation ${name}`);
  return text;
}

export const TOTP_PERIOD_MS = 30_000;
/** Codes are never computed this close to a step boundary, so client and server agree on the step. */
const BOUNDARY_MARGIN_MS = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function awayFromStepBoundary(): Promise<void> {
  const intoStep = Date.now() % TOTP_PERIOD_MS;
  if (intoStep > TOTP_PERIOD_MS - BOUNDARY_MARGIN_MS) await sleep(TOTP_PERIOD_MS - intoStep + 100);
}

export function currentStep(): number {
  return Math.floor(Date.now() / TOTP_PERIOD_MS);
}

/** A code computed by otpauth (not the service's own TOTP module) for `offset` steps from now. */
export function independentCode(secret: string, offset = 0): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + offset * TOTP_PERIOD_MS });
}

/**
 * An authenticator app holding one secret. The service accepts each time step once per account and
 * the window is ±1 step, so `next()` hands out the oldest still-unused step in the window (three uses
 * per 30 s) and waits for the next step only when all three are spent.
 */
export class Authenticator {
  private lastStep = -Infinity;

  constructor(readonly secret: string) {}

  async next(): Promise<string> {
    for (;;) {
      await awayFromStepBoundary();
      const now = currentStep();
      for (const offset of [-1, 0, 1]) {
        if (now + offset > this.lastStep) {
          this.lastStep = now + offset;
          return independentCode(this.secret, offset);
        }
      }
      await sleep(TOTP_PERIOD_MS - (Date.now() % TOTP_PERIOD_MS) + 100);
    }
  }

  /** Marks a code used elsewhere (e.g. the racing requests) so next() moves past its step. */
  used(offset = 0): void {
    this.lastStep = Math.max(this.lastStep, currentStep() + offset);
  }
}

export interface TwoFactorSetupResult {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

export async function enable(server: TestServer, account: TestAccount, password = account.password): Promise<GraphQLResponse<Record<string, any>>> {
  return server.gql(operation('EnableTwoFactor'), { password }, account.accessToken);
}

/** Enrols and confirms 2FA for an account; returns its authenticator and recovery codes. */
export async function enrol(server: TestServer, account: TestAccount): Promise<{ authenticator: Authenticator; recoveryCodes: string[]; setup: TwoFactorSetupResult }> {
  const enabled = await enable(server, account);
  if (!enabled.data?.enableTwoFactor) throw new Error(`enableTwoFactor failed: ${JSON.stringify(enabled.errors)}`);
  const setup = enabled.data.enableTwoFactor as TwoFactorSetupResult;
  const authenticator = new Authenticator(setup.secret);
  const confirmed = await server.gql(operation('ConfirmTwoFactor'), { code: await authenticator.next() }, account.accessToken);
  if (!confirmed.data?.confirmTwoFactor) throw new Error(`confirmTwoFactor failed: ${JSON.stringify(confirmed.errors)}`);
  return { authenticator, recoveryCodes: confirmed.data.confirmTwoFactor.codes, setup };
}

/** Logs in with the password; the account has 2FA on, so this must be a challenge. */
export async function challenge(server: TestServer, account: TestAccount): Promise<string> {
  const res = await server.gql(LOGIN, { input: { identifier: account.email, password: account.password } });
  if (res.data?.login?.__typename !== 'TwoFactorChallenge') throw new Error(`expected a TwoFactorChallenge: ${JSON.stringify(res)}`);
  return res.data.login.challengeToken;
}

export function verify(server: TestServer, challengeToken: string, code: string): Promise<GraphQLResponse<Record<string, any>>> {
  return server.gql(operation('VerifyTwoFactor'), { input: { challengeToken, code } });
}

/** Audit event types of an account, oldest first. */
export async function auditTypes(server: TestServer, userId: string): Promise<string[]> {
  const rows: Array<{ type: string }> = await server.running.services.dataSource.query(
    'SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id',
    [userId],
  );
  return rows.map((r) => r.type);
}
