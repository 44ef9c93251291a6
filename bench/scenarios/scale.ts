import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context';
import { amountFor, mediansOf, problems, runLoad, type LoadRequest, type LoadRun, type TagMedians } from '../lib/load';
import { atMost } from '../lib/report';
import { loginRequest, meRequest } from '../lib/requests';
import { BenchDb, TokenMint } from '../lib/seed';
import { startService, type BenchServer } from '../lib/servers';
import { ratio } from '../lib/stats';

const SECTION = 'scale (one connection: latency without queueing)';
/**
 * Accounts whose tokens the `me` traffic rotates over (main service and large side alike). Both
 * sides use as many: the service caches verified tokens (10,000 entries), and a side with more
 * distinct tokens than that would measure signature checks instead of the table.
 */
export const ME_SAMPLE_ACCOUNTS = 1_000;
const SCALE_TARGET = 1.2;

interface Side {
  label: string;
  server: BenchServer;
  login: LoadRequest;
  me: LoadRequest;
  loginAmount: number;
  logins: LoadRun[];
  mes: LoadRun[];
}

const usersLabel = (n: number): string =>
  n >= 1_000_000 ? `${(n / 1_000_000).toFixed(n % 1_000_000 ? 1 : 0)}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);

/**
 * login p50 and me p50 on the main service (the small table) against a second, identically
 * configured service on a database of its own seeded with the large table; runs alternate between
 * the two, so a noisy moment on the machine hits both sides alike. Logins pick random accounts
 * and `me` rotates over as many random accounts on each side.
 */
export async function scaleScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  if (options.scaleUsers <= options.users) {
    ctx.rows.push({ section: SECTION, scenario: 'login and me, small vs large table', result: 'skip', note: options.quick ? 'skipped in --quick (no 1M seed)' : '--scale-users is not above --users' });
    return;
  }

  ctx.log(`scale: a second service on its own database, seeding ${options.scaleUsers.toLocaleString('en-US')} accounts`);
  const url = await ctx.extraDatabase('scale');
  const server = await startService({
    name: 'service (large table)',
    databaseUrl: url,
    jwtPrivateKeyPem: ctx.keys.jwtPrivateKeyPem,
    encryptionKey: ctx.keys.encryptionKey,
    bcryptRounds: options.bcryptRounds,
    bcryptConcurrency: options.bcryptConcurrency,
  });
  const db = await BenchDb.connect(url);
  try {
    const seedStarted = performance.now();
    await db.seedUsers(1, options.scaleUsers, ctx.seedHash); // the service ran its migrations before it said ready
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const largeMint = new TokenMint(ctx.keys.jwtPrivateKeyPem, await db.openSessions(ctx.mint.size));
    const largeUsers = await db.userCount();
    const smallUsers = await ctx.db.userCount();
    ctx.log(`scale: seeded in ${seedSeconds.toFixed(1)}s; ${smallUsers} vs ${largeUsers} accounts, alternating runs`);

    const side = (label: string, target: BenchServer, accounts: number, mint: TokenMint): Side => ({
      label,
      server: target,
      login: loginRequest('valid', accounts, 'login', undefined, 'random'),
      me: meRequest(mint.tokens(), 'me'),
      loginAmount: 0,
      logins: [],
      mes: [],
    });
    const small = side(usersLabel(smallUsers), ctx.service, ctx.loginAccounts, ctx.mint);
    const large = side(usersLabel(largeUsers), server, options.scaleUsers, largeMint);
    const run = (s: Side, request: LoadRequest, span: { durationS: number } | { amount: number }): Promise<LoadRun> =>
      runLoad({ origin: s.server.origin, connections: 1, ...span, requests: [request] });

    for (const s of [small, large]) {
      s.loginAmount = amountFor(await run(s, s.login, { amount: 2 }), 'login', options.loginRunS, 2);
      await run(s, s.me, { durationS: options.warmupS });
    }
    for (let i = 0; i < options.runs; i++) {
      for (const s of [small, large]) s.logins.push(await run(s, s.login, { amount: s.loginAmount }));
      for (const s of [small, large]) s.mes.push(await run(s, s.me, { durationS: options.queryRunS }));
    }

    const medians = (s: Side): { login: TagMedians; me: TagMedians } => ({ login: mediansOf(s.logins, 'login'), me: mediansOf(s.mes, 'me') });
    const a = medians(small);
    const b = medians(large);
    ctx.raw.scale = { small: { users: smallUsers, ...a }, large: { users: largeUsers, ...b, peakRssMb: server.memory().peakRssMb }, seedSeconds };
    for (const what of ['login', 'me'] as const) {
      const r = ratio(b[what].p50, a[what].p50);
      ctx.rows.push({
        section: SECTION,
        scenario: `${what}, ${large.label} users`,
        rps: b[what].rps,
        p50: b[what].p50,
        p99: b[what].p99,
        baseline: `${small.label} users p50 (${a[what].p50.toFixed(a[what].p50 < 10 ? 2 : 0)} ms)`,
        ratio: r,
        target: `<= ${SCALE_TARGET.toFixed(2)}`,
        result: atMost(r, SCALE_TARGET),
        note: [what === 'me' ? `seeding ${large.label} rows took ${seedSeconds.toFixed(0)} s` : '', problems(a[what], b[what]) ?? ''].filter(Boolean).join('; ') || undefined,
      });
    }
  } finally {
    await db.close();
    await server.stop();
  }
}
