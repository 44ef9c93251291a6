import type { BenchContext } from '../lib/context';
import { drain, mediansOf, problems, runLoad, type LoadRun } from '../lib/load';
import { atMost } from '../lib/report';
import { loginRequest, meRequest } from '../lib/requests';
import { median, ratio } from '../lib/stats';
import type { EventLoopDelay } from '../lib/servers';

const SECTION = 'mixed load';
const ME_PER_LOGIN = 9; // 10% logins, 90% me, by request count
const EVENT_LOOP_P99_TARGET_MS = 20;
const P99_TARGET = 2;
/**
 * In the mix nearly every connection sits waiting on a bcrypt login, so `me` runs at about one
 * request in flight (Little's law: ~60 me/s x a few ms): this is `me` alone at that load.
 */
const LIGHT_CONNECTIONS = 1;

interface Measured {
  run: LoadRun;
  eventLoop: EventLoopDelay;
}

/**
 * 10% logins and 90% `me` on the same connections (closed loop; one global sequence hands every
 * tenth request out as a login to whichever connection asks next), against `me` alone on as many
 * connections (the brief's baseline, saturated) and `me` alone at the light load `me` has inside
 * the mix; runs interleaved. The event-loop delay is read inside the service by the preloaded
 * probe (bench/lib/event-loop-probe.ts), one window per run.
 */
export async function mixedScenario(ctx: BenchContext): Promise<void> {
  const { options, service } = ctx;
  const C = options.queryConnections;
  const tokens = ctx.mint.tokens();
  const mixed = [loginRequest('valid', ctx.loginAccounts, 'login'), meRequest(tokens, 'me')];
  const withEventLoop = async (run: () => Promise<LoadRun>): Promise<Measured> => {
    await service.resetEventLoop();
    const result = await run();
    return { run: result, eventLoop: await service.eventLoop() };
  };
  const runMixed = async (durationS: number): Promise<Measured> => {
    const result = await withEventLoop(() => runLoad({ origin: service.origin, connections: C, durationS, requests: mixed, shares: [1, ME_PER_LOGIN] }));
    await drain(result.run); // logins cut off at the end must not run into the next measurement
    return result;
  };
  const runAlone = (connections: number, durationS: number): Promise<Measured> =>
    withEventLoop(() => runLoad({ origin: service.origin, connections, durationS, requests: [meRequest(tokens, 'me')] }));

  ctx.log(`mixed: ${options.runs} x ${options.mixedRunS}s of 1 login per ${ME_PER_LOGIN} me, and me alone (${C} and ${LIGHT_CONNECTIONS} connections)`);
  await runMixed(options.warmupS);
  await runAlone(C, options.warmupS);
  const mixedRuns: Measured[] = [];
  const aloneRuns: Measured[] = [];
  const lightRuns: Measured[] = [];
  for (let run = 0; run < options.runs; run++) {
    mixedRuns.push(await runMixed(options.mixedRunS));
    aloneRuns.push(await runAlone(C, options.queryRunS));
    lightRuns.push(await runAlone(LIGHT_CONNECTIONS, options.queryRunS));
  }

  const meMixed = mediansOf(mixedRuns.map((r) => r.run), 'me');
  const loginMixed = mediansOf(mixedRuns.map((r) => r.run), 'login');
  const meAlone = mediansOf(aloneRuns.map((r) => r.run), 'me');
  const meLight = mediansOf(lightRuns.map((r) => r.run), 'me');
  const eld = (runs: Measured[]): number => median(runs.map((r) => r.eventLoop.p99));
  ctx.raw.mixed = {
    connections: C,
    meMixed,
    loginMixed,
    meAlone,
    meLight: { connections: LIGHT_CONNECTIONS, ...meLight },
    eventLoopMixed: mixedRuns.map((r) => r.eventLoop),
    eventLoopAlone: aloneRuns.map((r) => r.eventLoop),
    eventLoopLight: lightRuns.map((r) => r.eventLoop),
  };

  ctx.rows.push({ section: SECTION, scenario: `me alone, ${C} connections`, rps: meAlone.rps, p50: meAlone.p50, p99: meAlone.p99, note: problems(meAlone) });
  ctx.rows.push({
    section: SECTION,
    scenario: `me alone, ${LIGHT_CONNECTIONS} connection`,
    rps: meLight.rps,
    p50: meLight.p50,
    p99: meLight.p99,
    note: problems(meLight),
  });
  const mixedNote = [`logins in the mix: ${loginMixed.rps.toFixed(1)}/s, p50 ${loginMixed.p50.toFixed(0)} ms`, problems(meMixed, loginMixed)].filter(Boolean).join('; ');
  for (const [baseline, label, alone] of [
    [`me alone p99, ${C} conn.`, `me within 10% logins, ${C} connections`, meAlone],
    [`me alone p99, ${LIGHT_CONNECTIONS} conn.`, 'me within 10% logins, same me load alone', meLight],
  ] as const) {
    const p99Ratio = ratio(meMixed.p99, alone.p99);
    ctx.rows.push({
      section: SECTION,
      scenario: label,
      rps: meMixed.rps,
      p50: meMixed.p50,
      p99: meMixed.p99,
      baseline,
      ratio: p99Ratio,
      target: `<= ${P99_TARGET.toFixed(2)}`,
      result: atMost(p99Ratio, P99_TARGET),
      note: mixedNote,
    });
  }
  const eldMixed = eld(mixedRuns);
  ctx.rows.push({
    section: SECTION,
    scenario: 'event-loop delay p99 in the service, mixed',
    p99: eldMixed,
    value: `${eldMixed.toFixed(1)} ms`,
    target: `< ${EVENT_LOOP_P99_TARGET_MS} ms`,
    result: eldMixed < EVENT_LOOP_P99_TARGET_MS ? 'pass' : 'miss',
    note: `me alone: event-loop p99 ${eld(aloneRuns).toFixed(1)} ms at ${C} connections, ${eld(lightRuns).toFixed(1)} ms at ${LIGHT_CONNECTIONS} (monitorEventLoopDelay sampled every 10 ms, delay beyond the interval, preloaded probe)`,
  });
}
