import type { BenchContext } from '../lib/context';
import { VERIFY_2FA_MUTATION } from '../lib/graphql-client';
import { mediansOf, runLoad, type LoadRun } from '../lib/load';
import { graphQLBody, hasAccessToken, meRequest } from '../lib/requests';
import { ratio } from '../lib/stats';
import { challengesFor, enrolTwoFactor, nextStepCode, TwoFactorUnavailable, type EnrolledAccount } from '../lib/two-factor-setup';
import { measureWriteBurst, WRITE_SECTION } from '../lib/write-path';
import { withR3Prime } from './query-ladder';

const ACCOUNT_PREFIX = 'tfa';
/** Verifies spent before the measured burst so it does not pay for the first calls of a cold code path. */
const WARMUP_SHARE = 0.2;

/**
 * The 2FA step (verifyTwoFactor). A TOTP step is accepted once per account and every verify needs
 * a fresh challenge, i.e. a login with bcrypt: so N accounts are enrolled through the API
 * (enableTwoFactor + confirmTwoFactor), each gets one challenge by logging in, and then all N
 * verifies are fired as one burst (autocannon `amount`, same connections as the ladder, capped at
 * N) with the code of the next time step (accepted within +-1 step, and never the step the
 * confirmation already used). Compared with R5 (one durable commit) driven by the same burst, and
 * R3' (one read) likewise for the note.
 */
export async function twoFactorScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const n = options.twoFactorAccounts;
  const origin = ctx.service.origin;
  let pending: Array<{ challengeToken: string; account: EnrolledAccount }>;
  try {
    ctx.log(`2FA: enrolling ${n} accounts through the API (enableTwoFactor + confirmTwoFactor)`);
    const accounts = await enrolTwoFactor(ctx, ACCOUNT_PREFIX, n);
    ctx.log(`2FA: ${n} logins for fresh challenges`);
    const tokens = await challengesFor(origin, accounts);
    pending = accounts.map((account, i) => ({ account, challengeToken: tokens[i] }));
  } catch (error) {
    if (!(error instanceof TwoFactorUnavailable)) throw error;
    ctx.log(`2FA: skipped: ${error.message}`);
    ctx.rows.push({ section: WRITE_SECTION, scenario: 'verifyTwoFactor', result: 'skip', note: error.message });
    ctx.raw.twoFactor = { skipped: error.message };
    return;
  }

  const verifyRequest = {
    tag: 'verify',
    build: () => {
      const next = pending.shift()!;
      const code = nextStepCode(next.account.secret);
      return { body: graphQLBody(VERIFY_2FA_MUTATION, { input: { challengeToken: next.challengeToken, code } }) };
    },
    expect: hasAccessToken,
  };
  const warm = Math.max(1, Math.floor(n * WARMUP_SHARE));
  const connections = (amount: number): number => Math.min(options.queryConnections, amount);
  await runLoad({ origin, connections: connections(warm), amount: warm, requests: [verifyRequest] });
  const measured = n - warm;
  const { path: v, r5, cpu } = await measureWriteBurst(ctx, { scenario: `verifyTwoFactor (burst of ${measured} fresh challenges)`, amount: measured, request: verifyRequest }, () =>
    ctx.profile('2fa-verify', () => runLoad({ origin, connections: connections(measured), amount: measured, requests: [verifyRequest] })),
  );
  const row = ctx.rows[ctx.rows.length - 1];

  const meTokens = ctx.mint.tokens();
  const r3pRuns = await withR3Prime(ctx, async (server) => {
    const burst = (amount: number): Promise<LoadRun> =>
      runLoad({ origin: server.origin, connections: connections(amount), amount, requests: [meRequest(meTokens, 'q')] });
    await burst(warm);
    const runs: LoadRun[] = [];
    for (let run = 0; run < Math.max(3, options.runs); run++) runs.push(await burst(measured));
    return runs;
  });
  const r3p = mediansOf(r3pRuns, 'q');
  row.note = [row.note, `vs R3' burst (a single read): ${ratio(v.rps, r3p.rps).toFixed(2)}`].filter(Boolean).join('; ');
  ctx.raw.twoFactor = { accounts: n, warmup: warm, measured, connections: connections(measured), verify: v, r5Burst: r5, r3pBurst: r3p, cpuPerRequestMs: cpu };
}
