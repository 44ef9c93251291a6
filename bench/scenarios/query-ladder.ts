import type { BenchContext } from '../lib/context';
import { mediansOf, problems, runLoad, type LoadRequest, type LoadRun, type TagMedians } from '../lib/load';
import { atLeast } from '../lib/report';
import { coldMeRequest, meRequest, typenameRequest } from '../lib/requests';
import { CpuMeter, describeCpu, processCpuMs, treeCpuMs } from '../lib/cpu';
import { ratio } from '../lib/stats';
import { startBaseline, type BenchServer, type Rung } from '../lib/servers';

/** Cold tokens minted per expected request (the warm rung's rate is an upper bound of the cold one's). */
const COLD_TOKEN_MARGIN = 2.5;

interface Step {
  key: Rung | 'r3' | 'r3cold';
  label: string;
  server: BenchServer;
  request: () => LoadRequest;
}

/**
 * Authenticated-query ladder: each rung is a server of its own, all driven alike (same connections,
 * same rotating Bearer tokens), runs interleaved rung by rung so drift hits every rung equally.
 */
export async function queryLadder(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const tokens = ctx.mint.tokens();
  const baselines: BenchServer[] = [];
  try {
    for (const rung of ['r0', 'r1', 'r2', 'r3p'] as const) baselines.push(await startBaseline(rung, baselineEnv(ctx)));
    const [r0, r1, r2, r3p] = baselines;
    const steps: Step[] = [
      { key: 'r0', label: 'R0 raw node:http', server: r0, request: () => typenameRequest(tokens, 'q') },
      { key: 'r1', label: 'R1 R0 + jwt.verify (ES256)', server: r1, request: () => typenameRequest(tokens, 'q') },
      { key: 'r2', label: 'R2 bare Apollo { __typename }', server: r2, request: () => typenameRequest(tokens, 'q') },
      { key: 'r3p', label: "R3' node:http + jwt.verify + pg user lookup", server: r3p, request: () => meRequest(tokens, 'q') },
      { key: 'r3', label: 'R3 Bouncer me', server: ctx.service, request: () => meRequest(tokens, 'q') },
    ];

    const load = (step: Step, durationS: number): Promise<LoadRun> =>
      runLoad({ origin: step.server.origin, connections: options.queryConnections, durationS, requests: [step.request()] });

    ctx.log(`query ladder: warm-up, then ${options.runs} x ${options.queryRunS}s per rung, ${options.queryConnections} connections`);
    for (const step of steps) await load(step, options.warmupS);
    // Cold `me`: every request a token the service never saw (its verified-token cache misses), sized
    // from the warm rate and minted before the runs so signing does not compete with the service.
    const warmRate = (await load(steps[steps.length - 1], options.warmupS)).tags.q?.rps ?? 0;
    const coldCount = Math.ceil(Math.max(1000, warmRate) * (options.warmupS + options.runs * options.queryRunS) * COLD_TOKEN_MARGIN);
    ctx.log(`query ladder: minting ${coldCount.toLocaleString('en-US')} cold tokens`);
    const cold = coldMeRequest(ctx.mint.fresh(coldCount), 'q');
    const coldStep: Step = { key: 'r3cold', label: 'R3 Bouncer me, cold tokens', server: ctx.service, request: () => cold };
    steps.push(coldStep);
    await load(coldStep, options.warmupS);
    const runs = new Map<string, LoadRun[]>(steps.map((s) => [s.key, []]));
    // CPU per request of each rung's server and of PostgreSQL (when it runs here): what a ratio is made of.
    const postmaster = await ctx.db.postmasterPid();
    const cpu = new Map<string, { ms: Record<string, number>; requests: number }>(steps.map((s) => [s.key, { ms: {}, requests: 0 }]));
    for (let run = 0; run < options.runs; run++) {
      for (const step of steps) {
        const meter = new CpuMeter({
          server: () => processCpuMs(step.server.child.pid),
          PostgreSQL: () => (Number.isFinite(postmaster) ? treeCpuMs(postmaster) : Number.NaN),
        });
        meter.begin();
        const result = await load(step, options.queryRunS);
        const spent = cpu.get(step.key)!;
        for (const [name, ms] of Object.entries(meter.perRequest(1))) spent.ms[name] = (spent.ms[name] ?? 0) + ms;
        spent.requests += result.tags.q ? result.tags.q.ok + result.tags.q.unexpected : 0;
        runs.get(step.key)!.push(result);
      }
    }
    const cpuOf = (key: string): string => {
      const spent = cpu.get(key)!;
      return describeCpu(Object.fromEntries(Object.entries(spent.ms).map(([name, ms]) => [name, ms / Math.max(1, spent.requests)])));
    };

    const m = new Map<string, TagMedians>(steps.map((s) => [s.key, mediansOf(runs.get(s.key)!, 'q')]));
    const get = (key: string): TagMedians => m.get(key)!;
    ctx.baselines.r3p = get('r3p');
    ctx.baselines.r3 = get('r3');
    ctx.raw.queryLadder = Object.fromEntries(steps.map((s) => [s.key, { label: s.label, ...get(s.key) }]));

    const section = 'authenticated query ladder';
    const row = (key: string, label: string, baseline?: string, baseKey?: string, target?: [string, number]) => {
      const mine = get(key);
      const r = baseKey ? ratio(mine.rps, get(baseKey).rps) : undefined;
      ctx.rows.push({
        section,
        scenario: label,
        rps: mine.rps,
        p50: mine.p50,
        p99: mine.p99,
        baseline,
        ratio: r,
        target: target?.[0],
        result: target && r !== undefined ? atLeast(r, target[1]) : 'info',
        note: [problems(mine), key === 'r0' || key === 'r1' || key === 'r2' ? undefined : cpuOf(key)].filter(Boolean).join('; ') || undefined,
      });
    };
    row('r0', 'R0 raw node:http');
    row('r1', 'R1 R0 + jwt.verify (ES256)', 'R0', 'r0');
    row('r2', 'R2 bare Apollo Server { __typename }', 'R0', 'r0');
    row('r3p', "R3' node:http + jwt.verify + pg lookup", 'R1', 'r1');
    row('r3', 'R3 Bouncer me', 'R2', 'r2', ['>= 0.70', 0.7]);
    row('r3', 'R3 Bouncer me', "R3'", 'r3p', ['>= 0.50', 0.5]);
    row('r3cold', 'R3 Bouncer me, tokens never seen (cold cache)', "R3'", 'r3p', ['>= 0.60', 0.6]);
    if (cold.reused()) ctx.rows[ctx.rows.length - 1].note = [ctx.rows[ctx.rows.length - 1].note, `${cold.reused()} requests reused a token (the minted ones ran out)`].filter(Boolean).join('; ');
  } finally {
    await Promise.all(baselines.map((b) => b.stop()));
  }
}

/** What the baseline rungs are given: the service's public key, issuer, audience, database and pool size. */
export function baselineEnv(ctx: BenchContext): Record<string, string> {
  return {
    BENCH_JWT_PUBLIC_KEY: ctx.keys.jwtPublicKeyPem,
    JWT_ISSUER: 'bouncer',
    JWT_AUDIENCE: 'bouncer',
    DATABASE_URL: ctx.databaseUrl,
    DB_POOL_SIZE: '10', // the service's default pool
  };
}

/** Starts the R3' rung alone (sections that compare with it when the ladder did not run, or in bursts). */
export async function withR3Prime<T>(ctx: BenchContext, work: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await startBaseline('r3p', baselineEnv(ctx));
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

/** R3' medians at the ladder's settings: from the ladder when it ran, else measured now. */
export async function r3PrimeMedians(ctx: BenchContext): Promise<TagMedians> {
  if (ctx.baselines.r3p) return ctx.baselines.r3p;
  const { options } = ctx;
  const tokens = ctx.mint.tokens();
  ctx.baselines.r3p = await withR3Prime(ctx, async (server) => {
    const load = (durationS: number): Promise<LoadRun> =>
      runLoad({ origin: server.origin, connections: options.queryConnections, durationS, requests: [meRequest(tokens, 'q')] });
    await load(options.warmupS);
    const runs: LoadRun[] = [];
    for (let run = 0; run < options.runs; run++) runs.push(await load(options.queryRunS));
    return mediansOf(runs, 'q');
  });
  return ctx.baselines.r3p;
}
