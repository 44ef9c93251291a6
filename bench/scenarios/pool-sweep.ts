import type { BenchContext } from '../lib/context';
import { mediansOf, problems, runLoad, type LoadRun } from '../lib/load';
import { meRequest } from '../lib/requests';
import { ratio } from '../lib/stats';
import { startService, type BenchServer } from '../lib/servers';

const DEFAULT_POOL_SIZE = 10; // DB_POOL_SIZE default of src/config/config.ts

/**
 * `me` on one fresh service per DB_POOL_SIZE, all started side by side (same database, tokens and
 * connections) and measured in interleaved runs, so drift on a shared machine hits every size alike.
 */
export async function poolSweep(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const tokens = ctx.mint.tokens();
  const section = `DB pool sweep (me, ${options.queryConnections} connections)`;
  ctx.log(`pool sweep: DB_POOL_SIZE ${options.poolSizes.join(', ')}, ${options.runs} x ${options.queryRunS}s each, interleaved`);
  const services: Array<{ size: number; server: BenchServer }> = [];
  try {
    for (const size of options.poolSizes) {
      const server = await startService({
        name: `service (pool ${size})`,
        databaseUrl: ctx.databaseUrl,
        jwtPrivateKeyPem: ctx.keys.jwtPrivateKeyPem,
        encryptionKey: ctx.keys.encryptionKey,
        bcryptRounds: options.bcryptRounds,
        bcryptConcurrency: options.bcryptConcurrency,
        dbPoolSize: size,
      });
      services.push({ size, server });
    }
    const load = (server: BenchServer, durationS: number): Promise<LoadRun> =>
      runLoad({ origin: server.origin, connections: options.queryConnections, durationS, requests: [meRequest(tokens, 'me')] });
    for (const { server } of services) await load(server, options.warmupS);
    const runs = new Map<number, LoadRun[]>(services.map((s) => [s.size, []]));
    for (let run = 0; run < options.runs; run++) {
      for (const { size, server } of services) runs.get(size)!.push(await load(server, options.queryRunS));
    }

    const measured = services.map(({ size, server }) => ({ size, medians: mediansOf(runs.get(size)!, 'me'), peakRssMb: server.memory().peakRssMb }));
    ctx.raw.poolSweep = Object.fromEntries(measured.map((m) => [m.size, { ...m.medians, peakRssMb: m.peakRssMb }]));
    const reference = measured.find((m) => m.size === DEFAULT_POOL_SIZE);
    for (const m of measured) {
      const compared = reference && m !== reference;
      ctx.rows.push({
        section,
        scenario: `DB_POOL_SIZE=${m.size}${m.size === DEFAULT_POOL_SIZE ? ' (default)' : ''}`,
        rps: m.medians.rps,
        p50: m.medians.p50,
        p99: m.medians.p99,
        baseline: compared ? `pool ${DEFAULT_POOL_SIZE}` : undefined,
        ratio: compared ? ratio(m.medians.rps, reference.medians.rps) : undefined,
        note: [`peak RSS ${m.peakRssMb.toFixed(0)} MB`, problems(m.medians)].filter(Boolean).join('; '),
      });
    }
  } finally {
    await Promise.all(services.map(({ server }) => server.stop()));
  }
}
