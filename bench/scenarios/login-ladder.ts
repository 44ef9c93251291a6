import type { BenchContext } from '../lib/context';
import { amountFor, mediansOf, problems, runLoad, type LoadRequest, type LoadRun, type TagMedians } from '../lib/load';
import { atLeast, within } from '../lib/report';
import { loginRequest, registerRequest, type LoginKind } from '../lib/requests';
import { SEED_PASSWORD, servicePrehash } from '../lib/seed';
import { ratio, summarize } from '../lib/stats';

/** Refresh tokens kept from the ladder's logins for the refresh scenario (more would be unused). */
const KEEP_REFRESH_TOKENS = 256;
/** The timing comparison runs one login at a time: queueing would drown a few milliseconds of difference. */
const TIMING_CONNECTIONS = 1;
const TIMING_TOLERANCE = 0.05; // CONTRACT.md: unknown identifier and wrong password in indistinguishable time

interface RawBcryptRun {
  latencies: number[];
  durationMs: number;
}

/** L0 / H0: raw bcrypt in the runner process, as many calls in flight as the HTTP runs have connections. */
export async function rawBcrypt(ctx: BenchContext, op: 'compare' | 'hash', durationS: number, concurrency = ctx.options.loginConnections): Promise<LoadRun> {
  const result = await ctx.bcryptRunner.call<RawBcryptRun>('bcrypt', {
    op,
    input: servicePrehash(SEED_PASSWORD),
    hash: ctx.seedHash,
    rounds: ctx.options.bcryptRounds,
    concurrency,
    durationMs: durationS * 1000,
  });
  const latency = summarize(result.latencies);
  const durationSec = result.durationMs / 1000;
  return {
    durationS: durationSec,
    maxLatencyMs: latency.max,
    connectionErrors: 0,
    timeouts: 0,
    tags: { [op]: { ok: latency.count, unexpected: 0, latency, rps: latency.count / durationSec } },
  };
}

const unexpectedNote = (m: TagMedians): string | undefined => problems(m);

/**
 * Login ladder. Throughput: the ceiling L0 is raw bcrypt.compare on the same cores with as many
 * calls in flight as login has connections; login runs interleave with L0. Timing: valid login,
 * unknown identifier and wrong password one at a time, interleaved. Then register against raw
 * bcrypt.hash (H0) like the throughput pair. Every HTTP run goes by request count (amountFor).
 */
export async function loginLadder(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const C = options.loginConnections;
  const keep = (token: string): void => {
    if (ctx.refreshTokens.length < KEEP_REFRESH_TOKENS) ctx.refreshTokens.push(token);
  };
  const http = (request: LoadRequest, connections: number, amount: number): Promise<LoadRun> =>
    runLoad({ origin: ctx.service.origin, connections, amount, requests: [request] });
  const requests: Record<LoginKind, LoadRequest> = {
    valid: loginRequest('valid', ctx.loginAccounts, 'login', keep),
    unknown: loginRequest('unknown', ctx.loginAccounts, 'login'),
    wrong: loginRequest('wrong', ctx.loginAccounts, 'login'),
  };

  ctx.log(`login ladder: bcrypt rounds ${options.bcryptRounds}, ${C} in flight vs L0, ${options.runs} runs of ~${options.loginRunS}s`);
  await rawBcrypt(ctx, 'compare', options.warmupS);
  // A warm-up burst of one login per connection also tells how many requests fill a run.
  const loginAmount = amountFor(await http(requests.valid, C, C), 'login', options.loginRunS, C);
  const l0Runs: LoadRun[] = [];
  const loginRuns: LoadRun[] = [];
  for (let run = 0; run < options.runs; run++) {
    l0Runs.push(await rawBcrypt(ctx, 'compare', options.loginRunS));
    loginRuns.push(await http(requests.valid, C, loginAmount));
  }

  ctx.log(`login timing: valid / unknown identifier / wrong password, ${TIMING_CONNECTIONS} at a time`);
  const timingAmounts = {} as Record<LoginKind, number>;
  for (const kind of ['valid', 'unknown', 'wrong'] as const) {
    timingAmounts[kind] = amountFor(await http(requests[kind], TIMING_CONNECTIONS, 2), 'login', options.timingRunS, 2);
  }
  const timingRuns: Record<LoginKind, LoadRun[]> = { valid: [], unknown: [], wrong: [] };
  for (let run = 0; run < options.runs; run++) {
    for (const kind of ['valid', 'unknown', 'wrong'] as const) timingRuns[kind].push(await http(requests[kind], TIMING_CONNECTIONS, timingAmounts[kind]));
  }

  ctx.log('register vs raw bcrypt.hash');
  const register = registerRequest('register');
  const registerAmount = amountFor(await http(register, C, C), 'register', options.loginRunS, C);
  const hashRuns: LoadRun[] = [];
  const registerRuns: LoadRun[] = [];
  for (let run = 0; run < options.runs; run++) {
    hashRuns.push(await rawBcrypt(ctx, 'hash', options.loginRunS));
    registerRuns.push(await http(register, C, registerAmount));
  }

  const l0 = mediansOf(l0Runs, 'compare');
  const login = mediansOf(loginRuns, 'login');
  const valid = mediansOf(timingRuns.valid, 'login');
  const unknown = mediansOf(timingRuns.unknown, 'login');
  const wrong = mediansOf(timingRuns.wrong, 'login');
  const h0 = mediansOf(hashRuns, 'hash');
  const reg = mediansOf(registerRuns, 'register');
  ctx.raw.loginLadder = { connections: C, rounds: options.bcryptRounds, l0, login, timing: { connections: TIMING_CONNECTIONS, valid, unknown, wrong }, h0, register: reg };

  const section = `login ladder (bcrypt ${options.bcryptRounds})`;
  ctx.rows.push({ section, scenario: `L0 raw bcrypt.compare, ${C} in flight`, rps: l0.rps, p50: l0.p50, p99: l0.p99 });
  const loginRatio = ratio(login.rps, l0.rps);
  ctx.rows.push({
    section,
    scenario: `login, ${C} connections`,
    rps: login.rps,
    p50: login.p50,
    p99: login.p99,
    baseline: 'L0',
    ratio: loginRatio,
    target: '>= 0.90',
    result: atLeast(loginRatio, 0.9),
    note: unexpectedNote(login),
  });
  ctx.rows.push({ section, scenario: 'login, valid password, 1 at a time', rps: valid.rps, p50: valid.p50, p99: valid.p99, note: unexpectedNote(valid) });
  for (const [label, m] of [
    ['login, unknown identifier, 1 at a time', unknown],
    ['login, wrong password, 1 at a time', wrong],
  ] as const) {
    const p50Ratio = ratio(m.p50, valid.p50);
    ctx.rows.push({
      section,
      scenario: label,
      rps: m.rps,
      p50: m.p50,
      p99: m.p99,
      baseline: 'valid p50',
      ratio: p50Ratio,
      target: `${(1 - TIMING_TOLERANCE).toFixed(2)} - ${(1 + TIMING_TOLERANCE).toFixed(2)}`,
      result: within(p50Ratio, 1 - TIMING_TOLERANCE, 1 + TIMING_TOLERANCE),
      note: [
        unexpectedNote(m),
        `p50 ${m.p50.toFixed(1)} ms vs valid ${valid.p50.toFixed(1)} ms (difference ${(m.p50 - valid.p50).toFixed(1)} ms); mean ratio ${ratio(m.mean, valid.mean).toFixed(3)}`,
      ]
        .filter(Boolean)
        .join('; '),
    });
  }
  ctx.rows.push({ section, scenario: `H0 raw bcrypt.hash, ${C} in flight`, rps: h0.rps, p50: h0.p50, p99: h0.p99 });
  ctx.rows.push({
    section,
    scenario: `register, ${C} connections`,
    rps: reg.rps,
    p50: reg.p50,
    p99: reg.p99,
    baseline: 'H0',
    ratio: ratio(reg.rps, h0.rps),
    note: unexpectedNote(reg),
  });
}
