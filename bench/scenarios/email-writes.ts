import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context';
import { newPassword, RESET_PASSWORD_MUTATION, seedLinks, VERIFY_EMAIL_MUTATION, type MailRig, type SeededLink } from '../lib/email-setup';
import { dataOf, gql } from '../lib/graphql-client';
import { mediansOf, type LoadRequest, type LoadRun } from '../lib/load';
import { atLeast } from '../lib/report';
import { graphQLBody } from '../lib/requests';
import { ratio } from '../lib/stats';
import { measureWritePath, WRITE_SECTION, WRITE_TARGET } from '../lib/write-path';
import { rawBcrypt } from './login-ladder';

/**
 * Reset tokens seeded for resetPassword: five per connection. Each reset hashes the new password
 * with bcrypt (about 10 a second here), so a run is a couple of dozen requests; more tokens would
 * only lengthen the warm-up (a fifth of them).
 */
const RESET_TOKENS_PER_CONNECTION = 5;
/** The shortest H0 run, seconds. */
const MIN_H0_RUN_S = 1;

const answered = (field: string) => (_status: number, text: string): boolean => text.startsWith(`{"data":{"${field}":true}}`);

/**
 * A request that spends the next seeded token each time, counting the requests that found none
 * left; `span()` gives the seconds from the first request since the last call to the last answer.
 */
function spending(tag: string, pending: SeededLink[], body: (link: SeededLink, n: number) => string, field: string): LoadRequest & { ranDry(): number; span(): number } {
  let dry = 0;
  let n = 0;
  let first: number | undefined;
  let last = 0;
  return {
    tag,
    build: () => {
      first ??= performance.now();
      const next = pending.shift();
      if (!next) dry++;
      return { body: body(next ?? { userId: '', email: '', token: `${tag}-pool-ran-dry` }, ++n) };
    },
    expect: answered(field),
    after: () => {
      last = performance.now();
    },
    ranDry: () => dry,
    span: () => {
      const seconds = first === undefined ? 0 : (last - first) / 1000;
      first = undefined;
      return seconds;
    },
  };
}

/** The first seeded link, spent through the API: the seeding gives what the flow's own tokens give. */
async function spendOneThroughApi(origin: string, query: string, variables: Record<string, unknown>, field: string): Promise<void> {
  const data = dataOf<Record<string, unknown>>(await gql(origin, query, variables), `${field} with a seeded token`);
  if (data[field] !== true) throw new Error(`${field} with a seeded token answered ${JSON.stringify(data)}`);
}

/**
 * verifyEmail against R5: one transaction (spend the token, mark the address verified, the audit
 * row), so R5, one durable commit, is its floor. Tokens are seeded (seedLinks), one per account.
 */
export async function verifyEmailPath(ctx: BenchContext, rig: MailRig): Promise<void> {
  const n = ctx.options.twoFactorAccounts;
  ctx.log(`email: seeding ${n.toLocaleString('en-US')} accounts with a verification token each; verifyEmail interleaved with R5`);
  const pending = await seedLinks(rig.db, 'verify_email', 'ev', n, ctx.seedHash);
  const first = pending.shift()!;
  await spendOneThroughApi(rig.service.origin, VERIFY_EMAIL_MUTATION, { token: first.token }, 'verifyEmail');
  const request = spending('verify', pending, (link) => graphQLBody(VERIFY_EMAIL_MUTATION, { token: link.token }), 'verifyEmail');
  const { path, r5, cpu } = await measureWritePath(rig.ctx, {
    scenario: 'verifyEmail (a fresh token per request)',
    request,
    inputsLeft: () => pending.length,
    note: () => (request.ranDry() ? `${request.ranDry()} requests found no seeded token left` : undefined),
  });
  ctx.raw.verifyEmail = { seeded: n, verify: path, r5, cpuPerRequestMs: cpu, ranDry: request.ranDry() };
}

/**
 * resetPassword against R5 and against H0. A reset hashes the new password (bcrypt, ~100 ms of
 * CPU at cost 12) before its one transaction (~1 ms): against R5 its ratio only says how much
 * dearer a hash is than a commit, whatever the path does. Its ceiling on this machine is the hash
 * rate, H0 (raw bcrypt.hash in a process of its own, as many in flight as the path has
 * connections), measured in the same runs (after each reset run): the target is against H0, and
 * the gap to 1 is what the path adds to its hash.
 */
export async function resetPasswordPath(ctx: BenchContext, rig: MailRig): Promise<void> {
  const C = ctx.options.queryConnections;
  const n = RESET_TOKENS_PER_CONNECTION * C + 1;
  ctx.log(`email: seeding ${n} accounts with a reset token each; resetPassword interleaved with R5 and H0 (raw bcrypt.hash)`);
  const pending = await seedLinks(rig.db, 'reset_password', 'er', n, ctx.seedHash);
  const first = pending.shift()!;
  await spendOneThroughApi(rig.service.origin, RESET_PASSWORD_MUTATION, { token: first.token, newPassword: newPassword(0) }, 'resetPassword');
  const request = spending('reset', pending, (link, i) => graphQLBody(RESET_PASSWORD_MUTATION, { token: link.token, newPassword: newPassword(i) }), 'resetPassword');

  const h0Runs: LoadRun[] = [];
  let warmedUp = false; // bcrypt is native code: H0 needs no warm-up of its own
  const { path, r5, cpu } = await measureWritePath(rig.ctx, {
    scenario: 'resetPassword (a fresh token per request)',
    request,
    inputsLeft: () => pending.length,
    // Called after the warm-up and after each measured run: H0 runs right after each run, as long as it took.
    afterRun: async () => {
      const seconds = request.span();
      if (warmedUp) h0Runs.push(await rawBcrypt(ctx, 'hash', Math.max(MIN_H0_RUN_S, seconds), C));
      warmedUp = true;
    },
    note: () => (request.ranDry() ? `${request.ranDry()} requests found no seeded token left` : undefined),
  });
  const h0 = mediansOf(h0Runs, 'hash');
  const row = ctx.rows[ctx.rows.length - 1];
  ctx.rows.splice(ctx.rows.length - 1, 0, {
    section: WRITE_SECTION,
    scenario: `H0 raw bcrypt.hash, ${C} in flight (after each resetPassword run, as long)`,
    rps: h0.rps,
    p50: h0.p50,
    p99: h0.p99,
  });
  const vsH0 = ratio(path.rps, h0.rps);
  row.baseline = 'H0';
  row.ratio = vsH0;
  row.target = `>= ${WRITE_TARGET.toFixed(2)}`;
  row.result = atLeast(vsH0, WRITE_TARGET);
  row.note = [
    `vs R5: ${ratio(path.rps, r5.rps).toFixed(3)} (no target: bcrypt-bound by nature, a hash costs ~100x a commit; H0, the hash rate, is its ceiling)`,
    row.note,
  ]
    .filter(Boolean)
    .join('; ');
  ctx.raw.resetPassword = { seeded: n, reset: path, r5, h0, cpuPerRequestMs: cpu, ranDry: request.ranDry() };
}
