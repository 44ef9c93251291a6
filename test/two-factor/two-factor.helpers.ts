import { Secret, TOTP } from 'otpauth';
import { Clock } from '../../src/app/clock';
import { TOTP_PERIOD_SECONDS, TOTP_WINDOW_STEPS } from '../../src/two-factor/two-factor.constants';
import { LOGIN, type TestAccount } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { operation } from '../support/operations';
import { TestClock } from '../support/test-clock';
import type { GraphQLResponse, TestServer } from '../support/test-server';

/** @deprecated Import from test/support (audit.ts, operations.ts); kept so older imports still compile. */
export { auditTypes, operation };

export const TOTP_PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
const REAL_CLOCK = new Clock();

/**
 * The clock the server's TOTP checks read: the real one, unless the test started it `withClock(...)`.
 * A service in a child process (no `running` handle here) always runs on the real clock.
 */
export function clockOf(server: TestServer): Clock {
  return server.running ? server.running.container.get(Clock) : new Clock();
}

/** The TOTP time step `offset` steps from the clock's now. */
export function stepOf(clock: Clock, offset = 0): number {
  return Math.floor(clock.now() / TOTP_PERIOD_MS) + offset;
}

/** A code computed by otpauth (not the service's own TOTP module) for `offset` steps from the clock's now. */
export function independentCode(secret: string, offset = 0, clock: Clock = REAL_CLOCK): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SECONDS, timestamp: clock.now() + offset * TOTP_PERIOD_MS });
}

/**
 * An authenticator app holding one secret, reading the same clock as the server. The service
 * accepts each time step once per account within a window of ±TOTP_WINDOW_STEPS, so `next()` hands
 * out the oldest still-unused step the server accepts. It never sleeps:
 * - on a TestClock every step of the window is certain, and when all are spent it advances the
 *   clock one step;
 * - on the real clock it hands out only the current step and those ahead of it (a step behind may
 *   be two behind by the time the request arrives), and when those are spent it throws: waiting
 *   for the next real step is what a TestClock (test/support/test-clock.ts) is for.
 */
export class Authenticator {
  private lastStep = -Infinity;

  constructor(
    readonly secret: string,
    readonly clock: Clock = REAL_CLOCK,
  ) {}

  /** The code of the step `offset` steps from now (not marked used). */
  code(offset = 0): string {
    return independentCode(this.secret, offset, this.clock);
  }

  async next(): Promise<string> {
    const controlled = this.clock instanceof TestClock;
    for (;;) {
      const now = stepOf(this.clock);
      for (let offset = controlled ? -TOTP_WINDOW_STEPS : 0; offset <= TOTP_WINDOW_STEPS; offset++) {
        if (now + offset > this.lastStep) {
          this.lastStep = now + offset;
          return this.code(offset);
        }
      }
      if (!(this.clock instanceof TestClock)) {
        throw new Error('every code the server accepts in this 30 s step is used: start the server withClock(new TestClock()) instead of waiting');
      }
      this.clock.advance(TOTP_PERIOD_MS);
    }
  }

  /** Marks a code used elsewhere (e.g. the racing requests) so next() moves past its step. */
  used(offset = 0): void {
    this.lastStep = Math.max(this.lastStep, stepOf(this.clock, offset));
  }

  /**
   * The n-th (from 0) six-digit code that no step near now gives, so the server must refuse it as
   * a wrong code: distinct for distinct n. One step more than the window on each side, so the
   * real clock moving on before the request arrives cannot make it right.
   */
  wrongCode(n = 0): string {
    const right = new Set(Array.from({ length: 2 * TOTP_WINDOW_STEPS + 3 }, (_, i) => this.code(i - TOTP_WINDOW_STEPS - 1)));
    let seen = -1;
    for (let candidate = 0; ; candidate++) {
      const code = String(candidate).padStart(6, '0');
      if (!right.has(code) && ++seen === n) return code;
    }
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

/** Enrols and confirms 2FA for an account; returns its authenticator (on the server's clock) and recovery codes. */
export async function enrol(server: TestServer, account: TestAccount): Promise<{ authenticator: Authenticator; recoveryCodes: string[]; setup: TwoFactorSetupResult }> {
  const enabled = await enable(server, account);
  if (!enabled.data?.enableTwoFactor) throw new Error(`enableTwoFactor failed: ${JSON.stringify(enabled.errors)}`);
  const setup = enabled.data.enableTwoFactor as TwoFactorSetupResult;
  const authenticator = new Authenticator(setup.secret, clockOf(server));
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
