import { Secret, TOTP } from 'otpauth';
import type { BenchContext } from '../lib/context';
import {
  codeOf,
  CONFIRM_2FA_MUTATION,
  dataOf,
  ENABLE_2FA_MUTATION,
  gql,
  inParallel,
  LOGIN_MUTATION,
  VERIFY_2FA_MUTATION,
} from '../lib/graphql-client';
import { mediansOf, problems, runLoad, type LoadRun } from '../lib/load';
import { atLeast } from '../lib/report';
import { graphQLBody, hasAccessToken, meRequest } from '../lib/requests';
import { SEED_PASSWORD, TokenMint } from '../lib/seed';
import { ratio } from '../lib/stats';
import { withR3Prime } from './query-ladder';

const SECTION = 'refresh and 2FA step';
const ACCOUNT_PREFIX = 'tfa';
const SETUP_PARALLEL = 8;
const TOTP_PERIOD_MS = 30_000;
/** Verifies spent before the measured burst so it does not pay for the first calls of a cold code path. */
const WARMUP_SHARE = 0.2;

interface Pending {
  challengeToken: string;
  secret: Secret;
}

/**
 * The 2FA step (verifyTwoFactor). A TOTP step is accepted once per account and every verify needs
 * a fresh challenge, i.e. a login with bcrypt: so N accounts are enrolled through the API
 * (enableTwoFactor + confirmTwoFactor), each gets one challenge by logging in, and then all N
 * verifies are fired as one burst (autocannon `amount`, same connections as the ladder, capped at
 * N) with the code of the next time step (accepted within +-1 step, and never the step the
 * confirmation already used). Its throughput is compared with R3' driven by the same burst shape.
 */
export async function twoFactorScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const n = options.twoFactorAccounts;
  const origin = ctx.service.origin;
  const skip = (why: string): void => {
    ctx.log(`2FA: skipped: ${why}`);
    ctx.rows.push({ section: SECTION, scenario: 'verifyTwoFactor', result: 'skip', note: why });
    ctx.raw.twoFactor = { skipped: why };
  };

  await ctx.db.seedUsers(1, n, ctx.seedHash, ACCOUNT_PREFIX);
  const mint = new TokenMint(ctx.keys.jwtPrivateKeyPem, await ctx.db.openSessions(n, ACCOUNT_PREFIX));
  const tokens = mint.tokens();

  const probe = await gql(origin, ENABLE_2FA_MUTATION, { password: SEED_PASSWORD }, tokens[0]);
  if (probe.errors?.length) {
    const code = codeOf(probe);
    return skip(
      code === 'GRAPHQL_VALIDATION_FAILED'
        ? 'two-factor is not in the service yet (enableTwoFactor is not in the schema)'
        : `enableTwoFactor failed: ${code} ${probe.errors[0].message}`,
    );
  }

  ctx.log(`2FA: enrolling ${n} accounts through the API (enableTwoFactor + confirmTwoFactor)`);
  let secrets: Secret[];
  try {
    secrets = await inParallel(tokens, SETUP_PARALLEL, async (token, i) => {
      const setup = i === 0 ? probe : await gql(origin, ENABLE_2FA_MUTATION, { password: SEED_PASSWORD }, token);
      const secret = Secret.fromBase32(dataOf<{ enableTwoFactor: { secret: string } }>(setup, 'enableTwoFactor').enableTwoFactor.secret);
      dataOf(await gql(origin, CONFIRM_2FA_MUTATION, { code: TOTP.generate({ secret }) }, token), 'confirmTwoFactor');
      return secret;
    });
  } catch (error) {
    return skip((error as Error).message);
  }

  ctx.log(`2FA: ${n} logins for fresh challenges`);
  const pending: Pending[] = [];
  try {
    await inParallel(secrets, SETUP_PARALLEL, async (secret, i) => {
      const login = dataOf<{ login: { __typename: string; challengeToken?: string } }>(
        await gql(origin, LOGIN_MUTATION, { input: { identifier: mint.sessions[i].email, password: SEED_PASSWORD } }),
        'login of a 2FA account',
      ).login;
      if (login.__typename !== 'TwoFactorChallenge' || !login.challengeToken) throw new Error(`login of a 2FA account gave ${login.__typename}, not a TwoFactorChallenge`);
      pending.push({ challengeToken: login.challengeToken, secret });
    });
  } catch (error) {
    return skip((error as Error).message);
  }

  const verifyRequest = {
    tag: 'verify',
    build: () => {
      const next = pending.shift()!;
      // The step after now: confirmTwoFactor (or a racing step boundary) may have used the current one.
      const code = TOTP.generate({ secret: next.secret, timestamp: Date.now() + TOTP_PERIOD_MS });
      return { body: graphQLBody(VERIFY_2FA_MUTATION, { input: { challengeToken: next.challengeToken, code } }) };
    },
    expect: hasAccessToken,
  };
  const warm = Math.max(1, Math.floor(n * WARMUP_SHARE));
  const connections = (amount: number): number => Math.min(options.queryConnections, amount);
  await runLoad({ origin, connections: connections(warm), amount: warm, requests: [verifyRequest] });
  const measured = n - warm;
  const verify = await ctx.profile('2fa-verify', () => runLoad({ origin, connections: connections(measured), amount: measured, requests: [verifyRequest] }));

  const meTokens = ctx.mint.tokens();
  const r3pRuns = await withR3Prime(ctx, async (server) => {
    const burst = (amount: number): Promise<LoadRun> =>
      runLoad({ origin: server.origin, connections: connections(amount), amount, requests: [meRequest(meTokens, 'q')] });
    await burst(warm);
    const runs: LoadRun[] = [];
    for (let run = 0; run < Math.max(3, options.runs); run++) runs.push(await burst(measured));
    return runs;
  });
  const v = mediansOf([verify], 'verify');
  const r3p = mediansOf(r3pRuns, 'q');
  ctx.raw.twoFactor = { accounts: n, warmup: warm, measured, connections: connections(measured), verify: v, r3pBurst: r3p };
  const r = ratio(v.rps, r3p.rps);
  ctx.rows.push({
    section: SECTION,
    scenario: `verifyTwoFactor (burst of ${measured} fresh challenges)`,
    rps: v.rps,
    p50: v.p50,
    p99: v.p99,
    baseline: `R3' burst`,
    ratio: r,
    target: '>= 0.80',
    result: atLeast(r, 0.8),
    note: [
      `one burst: ${measured} verifies on ${connections(measured)} connections; R3' driven by the same burst (median of ${r3pRuns.length})`,
      problems(v) ?? '',
    ]
      .filter(Boolean)
      .join('; '),
  });
}
