import { Secret } from 'otpauth';
import type { BenchContext } from '../lib/context';
import { dataOf, gql, VERIFY_2FA_MUTATION } from '../lib/graphql-client';
import { graphQLBody, hasAccessToken } from '../lib/requests';
import type { SeededTwoFactor } from '../lib/seed';
import { ratio } from '../lib/stats';
import { challengesFor, enrolTwoFactor, nextStepCode, TwoFactorUnavailable } from '../lib/two-factor-setup';
import { measureWritePath, WRITE_SECTION } from '../lib/write-path';
import { r3PrimeMedians } from './query-ladder';

/** Accounts enrolled through the API first: the check that seeded ones are what the API makes. */
const API_ACCOUNTS = 4;
const API_PREFIX = 'tfa-api';
const SEEDED_PREFIX = 'tfa';

/**
 * The 2FA step (verifyTwoFactor) against R5, in runs like every write path. Each verify needs a
 * fresh challenge and an account whose TOTP step is unused: making those through the API costs a
 * bcrypt each (a burst of 52 was all a run could afford), so the accounts are seeded with TOTP on
 * and one challenge each, written the way confirmTwoFactor and login write them. First a few
 * accounts go the whole way through the API (enable, confirm, login, verify), and one seeded
 * account is verified through the API, so the seeding is known to give what the API gives.
 */
export async function twoFactorScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const origin = ctx.service.origin;
  try {
    ctx.log(`2FA: ${API_ACCOUNTS} accounts through the API (enable, confirm, login, verify)`);
    const enrolled = await enrolTwoFactor(ctx, API_PREFIX, API_ACCOUNTS);
    const tokens = await challengesFor(origin, enrolled);
    for (const [i, account] of enrolled.entries()) {
      const code = nextStepCode(account.secret);
      dataOf(await gql(origin, VERIFY_2FA_MUTATION, { input: { challengeToken: tokens[i], code } }), 'verifyTwoFactor of an API-enrolled account');
    }
  } catch (error) {
    if (!(error instanceof TwoFactorUnavailable)) throw error;
    ctx.log(`2FA: skipped: ${error.message}`);
    ctx.rows.push({ section: WRITE_SECTION, scenario: 'verifyTwoFactor', result: 'skip', note: error.message });
    ctx.raw.twoFactor = { skipped: error.message };
    return;
  }

  const n = options.twoFactorAccounts;
  ctx.log(`2FA: seeding ${n.toLocaleString('en-US')} accounts with TOTP on and a challenge each`);
  const pending: SeededTwoFactor[] = await ctx.db.seedTwoFactor(SEEDED_PREFIX, n, ctx.seedHash, ctx.keys.encryptionKey);
  const first = pending.shift()!;
  dataOf(
    await gql(origin, VERIFY_2FA_MUTATION, { input: { challengeToken: first.challengeToken, code: nextStepCode(Secret.fromBase32(first.secret)) } }),
    'verifyTwoFactor of a seeded account',
  );

  let ranDry = 0;
  const request = {
    tag: 'verify',
    build: () => {
      const next = pending.shift();
      if (!next) {
        ranDry++;
        return { body: graphQLBody(VERIFY_2FA_MUTATION, { input: { challengeToken: 'verify-pool-ran-dry', code: '000000' } }) };
      }
      const code = nextStepCode(Secret.fromBase32(next.secret));
      return { body: graphQLBody(VERIFY_2FA_MUTATION, { input: { challengeToken: next.challengeToken, code } }) };
    },
    expect: hasAccessToken,
  };
  ctx.log(`2FA: verifyTwoFactor interleaved with R5, ${options.runs} runs`);
  // Profiled (--profile) over the measured runs only: enrolment and seeding would drown them.
  const { path: verify, r5, cpu } = await ctx.profile('2fa-verify', () => measureWritePath(ctx, {
    scenario: 'verifyTwoFactor (TOTP, a fresh challenge per request)',
    request,
    inputsLeft: () => pending.length,
    note: () => (ranDry ? `${ranDry} requests found no seeded challenge left` : undefined),
  }));
  const r3p = await r3PrimeMedians(ctx);
  const row = ctx.rows[ctx.rows.length - 1];
  row.note = [row.note, `vs R3' (a single read): ${ratio(verify.rps, r3p.rps).toFixed(2)}`].filter(Boolean).join('; ');
  ctx.raw.twoFactor = { seeded: n, apiEnrolled: API_ACCOUNTS, verify, r5, r3p, cpuPerRequestMs: cpu, ranDry };
}
