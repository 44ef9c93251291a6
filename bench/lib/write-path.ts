import { baselineEnv } from '../scenarios/query-ladder';
import type { BenchContext } from './context';
import { CpuMeter, describeCpu, processCpuMs, treeCpuMs } from './cpu';
import { mediansOf, problems, runLoad, type LoadRequest, type LoadRun, type TagMedians } from './load';
import { atLeast, type Row } from './report';
import { startBaseline, type BenchServer } from './servers';
import { ratio } from './stats';

/**
 * The write ladder: every write path is compared with R5, a raw node:http + pg server doing exactly
 * one durable write transaction per request (one UPDATE ... RETURNING of an indexed row,
 * synchronous commit). A write cannot beat one commit; R5 is its floor on this machine, measured
 * in the same run, interleaved run by run with the path.
 *
 * Adding a row for a new flow (an email-code step, a passkey sign-in, ...):
 *   - `measureWritePath(ctx, { scenario, request })` in a scenario of its own; `request` may carry
 *     state from answer to answer (the refresh pool hands each connection a session's latest token);
 *   - inputs that are single-use (a challenge per 2FA step): seed them straight into the database
 *     the way the flow would write them (BenchDb.seedTwoFactor), check one through the API, and give
 *     `inputsLeft` so runs go by count and cannot run dry;
 *   - its statements per request: one entry in STATEMENT_OPS (bench/scenarios/statements.ts).
 * Then one line in SECTIONS (bench/run.ts, bench/lib/options.ts) when it is a new section.
 */
export const WRITE_SECTION = 'write ladder (R5 = one durable commit)';
/** Rows of bench_r5 the R5 rung updates in turn (enough that requests never wait on each other's row). */
export const R5_ROWS = 1000;
export const WRITE_TARGET = 0.8;
/** Single-use inputs spent on the warm-up, and kept back from the runs so none runs dry. */
const WARMUP_INPUT_SHARE = 0.2;
const SPARE_INPUT_SHARE = 0.1;

export interface WritePath {
  /** The row's label. */
  scenario: string;
  /** The request (one instance for every run: it may carry state from answer to answer). */
  request: LoadRequest;
  /**
   * For a path whose inputs are single-use and prepared beforehand: how many are left. Runs then go
   * by count (a fifth of them for the warm-up, then as many per run as the warm-up's rate fills in
   * a run's time, within what is left), so they cannot run dry. Unset: runs go by time.
   */
  inputsLeft?: () => number;
  /** After each run (e.g. presenting tokens a cut-off run left unanswered). */
  afterRun?: () => Promise<void>;
  /** Extra words for the row's note. */
  note?: () => string | undefined;
  target?: number;
}

const loadGeneratorCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** CPU per request of a server, PostgreSQL (when on this machine) and the load generator. */
async function meter(ctx: BenchContext, server: BenchServer, label: string): Promise<CpuMeter> {
  const postmaster = await ctx.db.postmasterPid();
  return new CpuMeter({
    [label]: () => processCpuMs(server.child.pid),
    PostgreSQL: () => (Number.isFinite(postmaster) ? treeCpuMs(postmaster) : Number.NaN),
    'load generator': loadGeneratorCpuMs,
  });
}

/** Runs `run` under `cpu`, adding its CPU and request count to `into`. */
async function metered(cpu: CpuMeter, into: { cpu: Record<string, number>; requests: number }, run: () => Promise<LoadRun>): Promise<LoadRun> {
  cpu.begin();
  const result = await run();
  const requests = Object.values(result.tags).reduce((n, t) => n + t.ok + t.unexpected, 0);
  for (const [name, ms] of Object.entries(cpu.perRequest(1))) into.cpu[name] = (into.cpu[name] ?? 0) + ms;
  into.requests += requests;
  return result;
}

const perRequest = (acc: { cpu: Record<string, number>; requests: number }): Record<string, number> =>
  Object.fromEntries(Object.entries(acc.cpu).map(([name, ms]) => [name, ms / Math.max(1, acc.requests)]));

export interface WriteMeasured {
  path: TagMedians;
  r5: TagMedians;
  /** CPU ms per request by process, for the path and for R5. */
  cpu: { path: Record<string, number>; r5: Record<string, number> };
}

/** Starts R5 for `work` (its table seeded on first use) and stops it after. */
export async function withR5<T>(ctx: BenchContext, work: (server: BenchServer) => Promise<T>): Promise<T> {
  await ctx.db.seedR5Rows(R5_ROWS);
  const server = await startBaseline('r5', { ...baselineEnv(ctx), R5_ROWS: String(R5_ROWS) });
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

export function r5Request(): LoadRequest {
  return { tag: 'q', body: '{}', expect: (_status, text) => text.startsWith('{"data":{"write":') };
}

/** R5's own row (once per run of the bench: the first write path measured adds it). */
function r5Row(ctx: BenchContext, r5: TagMedians, how: string): void {
  if (ctx.rows.some((r) => r.section === WRITE_SECTION && r.scenario.startsWith('R5 '))) return;
  ctx.rows.push({
    section: WRITE_SECTION,
    scenario: 'R5 node:http + one durable UPDATE ... RETURNING',
    rps: r5.rps,
    p50: r5.p50,
    p99: r5.p99,
    note: [how, problems(r5)].filter(Boolean).join('; '),
  });
}

function writeRow(ctx: BenchContext, scenario: string, mine: TagMedians, r5: TagMedians, baseline: string, target: number, note?: string): Row {
  const r = ratio(mine.rps, r5.rps);
  const row: Row = {
    section: WRITE_SECTION,
    scenario,
    rps: mine.rps,
    p50: mine.p50,
    p99: mine.p99,
    baseline,
    ratio: r,
    target: `>= ${target.toFixed(2)}`,
    result: atLeast(r, target),
    note: [note, problems(mine)].filter(Boolean).join('; ') || undefined,
  };
  ctx.rows.push(row);
  return row;
}

/** A repeatable write path against R5: warm-up, then runs interleaved with R5's, medians compared. */
export async function measureWritePath(ctx: BenchContext, path: WritePath): Promise<WriteMeasured> {
  const { options } = ctx;
  const C = options.queryConnections;
  return withR5(ctx, async (r5Server) => {
    const serviceCpu = await meter(ctx, ctx.service, 'service');
    const r5Cpu = await meter(ctx, r5Server, 'R5 server');
    const spent = { path: { cpu: {}, requests: 0 }, r5: { cpu: {}, requests: 0 } };
    let amount: number | undefined;
    const onService = async (durationS: number, measure = true): Promise<LoadRun> => {
      const span = amount === undefined ? { durationS } : { amount };
      const load = (): Promise<LoadRun> => runLoad({ origin: ctx.service.origin, connections: C, ...span, requests: [path.request] });
      const run = measure ? await metered(serviceCpu, spent.path, load) : await load();
      await path.afterRun?.();
      return run;
    };
    const onR5 = (durationS: number, measure = true): Promise<LoadRun> => {
      const load = (): Promise<LoadRun> => runLoad({ origin: r5Server.origin, connections: C, durationS, requests: [r5Request()] });
      return measure ? metered(r5Cpu, spent.r5, load) : load();
    };
    await onR5(options.warmupS, false);
    if (path.inputsLeft) amount = Math.max(C, Math.floor(path.inputsLeft() * WARMUP_INPUT_SHARE));
    const warm = await onService(options.warmupS, false);
    if (path.inputsLeft) {
      const fill = Math.round((warm.tags[path.request.tag]?.rps ?? 0) * options.queryRunS);
      amount = Math.max(C, Math.min(fill, Math.floor((path.inputsLeft() * (1 - SPARE_INPUT_SHARE)) / options.runs)));
    }
    const r5Runs: LoadRun[] = [];
    const runs: LoadRun[] = [];
    for (let run = 0; run < options.runs; run++) {
      r5Runs.push(await onR5(options.queryRunS));
      runs.push(await onService(options.queryRunS));
    }
    const r5 = mediansOf(r5Runs, 'q');
    const mine = mediansOf(runs, path.request.tag);
    const cpu = { path: perRequest(spent.path), r5: perRequest(spent.r5) };
    r5Row(ctx, r5, `${C} connections, runs of ${options.queryRunS}s interleaved with each write path; ${describeCpu(cpu.r5)}`);
    const how = amount === undefined ? undefined : `runs of ${amount} requests`;
    writeRow(ctx, path.scenario, mine, r5, 'R5', path.target ?? WRITE_TARGET, [path.note?.(), how, describeCpu(cpu.path)].filter(Boolean).join('; '));
    return { path: mine, r5, cpu };
  });
}
