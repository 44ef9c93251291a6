import { Secret, TOTP } from 'otpauth';
import type { BenchContext } from './context';
import { codeOf, CONFIRM_2FA_MUTATION, dataOf, ENABLE_2FA_MUTATION, gql, inParallel, LOGIN_MUTATION } from './graphql-client';
import { SEED_PASSWORD, TokenMint, type SeededSession } from './seed';

const SETUP_PARALLEL = 8;
const TOTP_PERIOD_MS = 30_000;

export interface EnrolledAccount {
  session: SeededSession;
  secret: Secret;
}

/** Why 2FA could not be set up (the scenario says so in a skipped row). */
export class TwoFactorUnavailable extends Error {}

/**
 * Seeds `n` accounts `<prefix><i>@bench.test` and enrols each in TOTP through the API
 * (enableTwoFactor + confirmTwoFactor with the current step's code).
 */
export async function enrolTwoFactor(ctx: BenchContext, prefix: string, n: number): Promise<EnrolledAccount[]> {
  const origin = ctx.service.origin;
  await ctx.db.seedUsers(1, n, ctx.seedHash, prefix);
  const mint = new TokenMint(ctx.keys.jwtPrivateKeyPem, await ctx.db.openSessions(n, prefix));
  const tokens = mint.tokens();
  const probe = await gql(origin, ENABLE_2FA_MUTATION, { password: SEED_PASSWORD }, tokens[0]);
  if (probe.errors?.length) {
    const code = codeOf(probe);
    throw new TwoFactorUnavailable(
      code === 'GRAPHQL_VALIDATION_FAILED'
        ? 'two-factor is not in the service yet (enableTwoFactor is not in the schema)'
        : `enableTwoFactor failed: ${code} ${probe.errors[0].message}`,
    );
  }
  try {
    return await inParallel(tokens, SETUP_PARALLEL, async (token, i) => {
      const setup = i === 0 ? probe : await gql(origin, ENABLE_2FA_MUTATION, { password: SEED_PASSWORD }, token);
      const secret = Secret.fromBase32(dataOf<{ enableTwoFactor: { secret: string } }>(setup, 'enableTwoFactor').enableTwoFactor.secret);
      dataOf(await gql(origin, CONFIRM_2FA_MUTATION, { code: TOTP.generate({ secret }) }, token), 'confirmTwoFactor');
      return { session: mint.sessions[i], secret };
    });
  } catch (error) {
    throw new TwoFactorUnavailable((error as Error).message);
  }
}

/** A fresh challenge per account (one password login each). */
export async function challengesFor(origin: string, accounts: EnrolledAccount[]): Promise<string[]> {
  return inParallel(accounts, SETUP_PARALLEL, async (account) => {
    const login = dataOf<{ login: { __typename: string; challengeToken?: string } }>(
      await gql(origin, LOGIN_MUTATION, { input: { identifier: account.session.email, password: SEED_PASSWORD } }),
      'login of a 2FA account',
    ).login;
    if (login.__typename !== 'TwoFactorChallenge' || !login.challengeToken) throw new Error(`login of a 2FA account gave ${login.__typename}, not a TwoFactorChallenge`);
    return login.challengeToken;
  });
}

/** The code of the step after now: confirmTwoFactor (or a racing step boundary) may have used the current one. */
export function nextStepCode(secret: Secret): string {
  return TOTP.generate({ secret, timestamp: Date.now() + TOTP_PERIOD_MS });
}
