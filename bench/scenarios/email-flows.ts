import type { BenchContext } from '../lib/context';
import {
  checkStoredLikeSeeded,
  newPassword,
  REQUEST_RESET_MUTATION,
  RESET_PASSWORD_MUTATION,
  seedAccounts,
  VERIFY_EMAIL_MUTATION,
  withMailRig,
  type MailRig,
} from '../lib/email-setup';
import { dataOf, gql, REGISTER_MUTATION } from '../lib/graphql-client';
import { mediansOf, problems, runLoad, type LoadRequest, type LoadRun } from '../lib/load';
import { within } from '../lib/report';
import { graphQLBody } from '../lib/requests';
import { SEED_PASSWORD } from '../lib/seed';
import { median, ratio } from '../lib/stats';
import { resetPasswordPath, verifyEmailPath } from './email-writes';

export const EMAIL_SECTION = 'email flows (mail really sent, to a local SMTP sink)';
const TIMING_TOLERANCE = 0.05; // CONTRACT.md: known and unknown addresses answer in indistinguishable time
const TIMING_CONNECTIONS = 1; // one request at a time, like the login timing rows: queueing would drown the difference
const WARMUP_PAIRS = 20;
/**
 * Each of the bench's runs is split in this many short ones, and the ratio is the median of the
 * runs' own unknown/known p50 ratios: the pairs of a run share the machine's load of that moment,
 * which on a busy machine moves p50 by more than the difference sought between runs.
 */
const SPLIT_RUNS = 4;
/** Seeded accounts the known-address requests go through, each asked about once (a prober's first request). */
const KNOWN_ACCOUNTS = { quick: 1_000, full: 8_000 };
const KNOWN_PREFIX = 'rk';
/** The rig service's per-client reset limit: every request of the bench comes from 127.0.0.1. */
const RIG_ENV = { PASSWORD_RESETS_PER_CLIENT_PER_HOUR: '1000000' };

const isTrue = (field: string) => (_status: number, text: string): boolean => text.startsWith(`{"data":{"${field}":true}}`);

/**
 * The `email` section, on a service that really mails (a second service, SMTP_URL at a local sink,
 * a database of its own): first one account goes each way through the API (register, the
 * verification mail, verifyEmail; requestPasswordReset, the reset mail, resetPassword) and the
 * stored tokens are compared with what the bench seeds; then requestPasswordReset's timing for
 * known and unknown addresses; then verifyEmail and resetPassword as write paths against R5.
 */
export async function emailScenario(ctx: BenchContext): Promise<void> {
  await withMailRig(ctx, 'email', RIG_ENV, async (rig) => {
    ctx.log('email: one account each way through the API (mail caught by the sink)');
    await checkThroughApi(ctx, rig);
    await resetRequestTiming(ctx, rig);
    await verifyEmailPath(ctx, rig);
    await resetPasswordPath(ctx, rig);
  });
}

async function checkThroughApi(ctx: BenchContext, rig: MailRig): Promise<void> {
  const origin = rig.service.origin;
  const registered = `apiv${Date.now()}@bench.test`;
  dataOf(await gql(origin, REGISTER_MUTATION, { input: { email: registered, password: SEED_PASSWORD } }), 'register on the mailing service');
  const verification = await rig.sink.linkTokenWhenThere(registered);
  await checkStoredLikeSeeded(rig.db, 'verify_email', registered, verification.token);
  if (dataOf(await gql(origin, VERIFY_EMAIL_MUTATION, { token: verification.token }), 'verifyEmail with a mailed token').verifyEmail !== true) {
    throw new Error('verifyEmail with a mailed token did not answer true');
  }

  const [known] = await seedAccounts(rig.db, 'apir', 1, ctx.seedHash);
  dataOf(await gql(origin, REQUEST_RESET_MUTATION, { email: known.email }), 'requestPasswordReset of a seeded account');
  const reset = await rig.sink.linkTokenWhenThere(known.email);
  await checkStoredLikeSeeded(rig.db, 'reset_password', known.email, reset.token);
  const done = dataOf(await gql(origin, RESET_PASSWORD_MUTATION, { token: reset.token, newPassword: newPassword(0) }), 'resetPassword with a mailed token');
  if (done.resetPassword !== true) throw new Error('resetPassword with a mailed token did not answer true');
}

/**
 * requestPasswordReset for a known and an unknown address, one request at a time, alternating on
 * one connection (pairs; which kind goes first changes run by run), every address asked about once (a prober's first request also creates
 * the address's throttle counter, so both kinds must be fresh). The service looks the address up
 * and queues the mail after answering, at a random moment within 500 ms: the mails of known
 * addresses go out meanwhile, hitting both kinds alike. Afterwards every known request's mail must
 * reach the sink, and none for an unknown address.
 */
async function resetRequestTiming(ctx: BenchContext, rig: MailRig): Promise<void> {
  const { options } = ctx;
  const accounts = options.quick ? KNOWN_ACCOUNTS.quick : KNOWN_ACCOUNTS.full;
  ctx.log(`email: seeding ${accounts.toLocaleString('en-US')} accounts; requestPasswordReset known vs unknown, ${TIMING_CONNECTIONS} at a time`);
  await rig.db.seedUsers(1, accounts, ctx.seedHash, KNOWN_PREFIX);
  await rig.sink.reset();

  let used = 0;
  let ranDry = 0;
  const known: LoadRequest = {
    tag: 'known',
    build: () => {
      if (used >= accounts) ranDry++;
      return { body: graphQLBody(REQUEST_RESET_MUTATION, { email: `${KNOWN_PREFIX}${(used++ % accounts) + 1}@bench.test` }) };
    },
    expect: isTrue('requestPasswordReset'),
  };
  let ghosts = 0;
  const ghostPrefix = `nobody${process.pid}x`;
  const unknown: LoadRequest = {
    tag: 'unknown',
    build: () => ({ body: graphQLBody(REQUEST_RESET_MUTATION, { email: `${ghostPrefix}${++ghosts}@bench.test` }) }),
    expect: isTrue('requestPasswordReset'),
  };
  // Which kind goes first in a pair alternates run by run: the first and second place of a cycle are then alike for both.
  const run = (amount: number, knownFirst: boolean): Promise<LoadRun> =>
    runLoad({ origin: rig.service.origin, connections: TIMING_CONNECTIONS, amount, requests: knownFirst ? [known, unknown] : [unknown, known] });

  const warm = await run(2 * WARMUP_PAIRS, true);
  const rate = (warm.tags.known?.rps ?? 0) + (warm.tags.unknown?.rps ?? 0);
  const count = options.runs * SPLIT_RUNS;
  const pairsLeft = Math.floor(((accounts - used) * 0.9) / count);
  // Each kind gets timingRunS per bench run, as in the login timing rows.
  const pairs = Math.max(WARMUP_PAIRS, Math.min(pairsLeft, Math.round((rate * options.timingRunS) / SPLIT_RUNS)));
  const runs: LoadRun[] = [];
  for (let i = 0; i < count; i++) runs.push(await run(2 * pairs, i % 2 === 0));

  const k = mediansOf(runs, 'known');
  const u = mediansOf(runs, 'unknown');
  const runRatios = u.perRun.map((r, i) => ratio(r.p50, k.perRun[i]?.p50 ?? Number.NaN));
  const p50Ratio = median(runRatios);
  const knownAnswered = [warm, ...runs].reduce((n, r) => n + (r.tags.known?.ok ?? 0), 0);
  const mail = await mailsArrived(rig, knownAnswered, ghostPrefix);
  ctx.raw.emailResetTiming = { pairsPerRun: pairs, runs: count, known: k, unknown: u, runRatios, ranDry, mail };

  const mailNote = `${mail.toKnown} of ${knownAnswered} reset mails reached the SMTP sink${mail.waited ? '' : ` (gave up waiting after ${mail.waitedS.toFixed(0)} s)`}, ${mail.toUnknown} to unknown addresses`;
  ctx.rows.push({
    section: EMAIL_SECTION,
    scenario: 'requestPasswordReset, known address, 1 at a time',
    rps: k.rps,
    p50: k.p50,
    p99: k.p99,
    note: [problems(k), `${count} runs of ${pairs} pairs, alternating with unknown addresses on one connection`, mailNote, ranDry ? `${ranDry} requests reused an address` : undefined].filter(Boolean).join('; '),
  });
  ctx.rows.push({
    section: EMAIL_SECTION,
    scenario: 'requestPasswordReset, unknown address, 1 at a time',
    rps: u.rps,
    p50: u.p50,
    p99: u.p99,
    baseline: 'known p50, same run',
    ratio: p50Ratio,
    target: `${(1 - TIMING_TOLERANCE).toFixed(2)} - ${(1 + TIMING_TOLERANCE).toFixed(2)}`,
    result: within(p50Ratio, 1 - TIMING_TOLERANCE, 1 + TIMING_TOLERANCE),
    note: [
      problems(u),
      `ratio: the median of the runs' own p50 ratios (${runRatios.map((r, i) => `${i % 2 ? 'unknown' : 'known'} first ${r.toFixed(2)}`).join(', ')})`,
      `medians over runs: p50 ${u.p50.toFixed(2)} ms vs known ${k.p50.toFixed(2)} ms (difference ${(u.p50 - k.p50).toFixed(2)} ms); mean ratio ${ratio(u.mean, k.mean).toFixed(3)}; p99 ratio ${ratio(u.p99, k.p99).toFixed(2)}`,
    ]
      .filter(Boolean)
      .join('; '),
  });
}

/** Waits for the reset mails of the known addresses (the outbox drains after the runs), then counts both kinds at the sink. */
async function mailsArrived(rig: MailRig, expected: number, ghostPrefix: string): Promise<{ toKnown: number; toUnknown: number; waited: boolean; waitedS: number }> {
  const started = Date.now();
  let waited = true;
  try {
    await rig.sink.waitFor(expected, KNOWN_PREFIX);
  } catch {
    waited = false;
  }
  return {
    toKnown: await rig.sink.countTo(KNOWN_PREFIX),
    toUnknown: await rig.sink.countTo(ghostPrefix),
    waited,
    waitedS: (Date.now() - started) / 1000,
  };
}
