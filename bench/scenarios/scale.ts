import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context';
import { amountFor, mediansOf, problems, runLoad, type LoadRun, type TagMedians } from '../lib/load';
import { atMost } from '../lib/report';
import { loginRequest, meRequest } from '../lib/requests';
import { TokenMint } from '../lib/seed';
import { ratio } from '../lib/stats';

const SECTION = 'scale (one connection: latency without queueing)';
/** Accounts whose `me` the large table is read for: enough that the reads spread over the table. */
export const ME_SAMPLE_ACCOUNTS = 20_000;
const SCALE_TARGET = 1.2;

interface Side {
  users: number;
  login: TagMedians;
  me: TagMedians;
}

/** login p50 and me p50 with the small table, then with the large one (seeded in between). */
export async function scaleScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  if (options.scaleUsers <= options.users) {
    ctx.rows.push({ section: SECTION, scenario: 'login and me, small vs large table', result: 'skip', note: options.quick ? 'skipped in --quick (no 1M seed)' : '--scale-users is not above --users' });
    return;
  }

  const measure = async (accounts: number, mint: TokenMint): Promise<Side> => {
    const tokens = mint.tokens();
    const login = loginRequest('valid', accounts, 'login');
    const me = meRequest(tokens, 'me');
    const run = (request: typeof login, span: { durationS: number } | { amount: number }): Promise<LoadRun> =>
      runLoad({ origin: ctx.service.origin, connections: 1, ...span, requests: [request] });
    const loginAmount = amountFor(await run(login, { amount: 2 }), 'login', options.loginRunS, 2);
    await run(me, { durationS: options.warmupS });
    const logins: LoadRun[] = [];
    const mes: LoadRun[] = [];
    for (let i = 0; i < options.runs; i++) {
      logins.push(await run(login, { amount: loginAmount }));
      mes.push(await run(me, { durationS: options.queryRunS }));
    }
    return { users: await ctx.db.userCount(), login: mediansOf(logins, 'login'), me: mediansOf(mes, 'me') };
  };

  ctx.log(`scale: ${options.users} users`);
  const small = await measure(options.users, ctx.mint);

  ctx.log(`scale: seeding up to ${options.scaleUsers.toLocaleString('en-US')} users`);
  const seedStarted = performance.now();
  await ctx.db.seedUsers(options.users + 1, options.scaleUsers, ctx.seedHash);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const largeMint = new TokenMint(ctx.keys.jwtPrivateKeyPem, await ctx.db.openSessions(ME_SAMPLE_ACCOUNTS));
  ctx.log(`scale: seeded in ${seedSeconds.toFixed(1)}s; measuring with ${largeMint.size} accounts' tokens`);
  const large = await measure(options.scaleUsers, largeMint);

  ctx.raw.scale = { small, large, seedSeconds };
  const label = (n: number): string => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(n % 1_000_000 ? 1 : 0)}M` : n >= 1000 ? `${Math.round(n / 1000)}k` : String(n));
  for (const [what, a, b] of [
    ['login', small.login, large.login],
    ['me', small.me, large.me],
  ] as const) {
    const r = ratio(b.p50, a.p50);
    ctx.rows.push({
      section: SECTION,
      scenario: `${what}, ${label(large.users)} users`,
      rps: b.rps,
      p50: b.p50,
      p99: b.p99,
      baseline: `${label(small.users)} users p50 (${a.p50.toFixed(a.p50 < 10 ? 2 : 0)} ms)`,
      ratio: r,
      target: `<= ${SCALE_TARGET.toFixed(2)}`,
      result: atMost(r, SCALE_TARGET),
      note: [what === 'me' ? `seeding ${label(options.scaleUsers)} rows took ${seedSeconds.toFixed(0)} s` : '', problems(a, b) ?? '']
        .filter(Boolean)
        .join('; ') || undefined,
    });
  }
}
