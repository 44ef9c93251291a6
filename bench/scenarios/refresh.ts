import type { BenchContext } from '../lib/context';
import { gql, inParallel, LOGIN_MUTATION, REFRESH_MUTATION } from '../lib/graphql-client';
import type { LoadRequest } from '../lib/load';
import { graphQLBody, hasAccessToken, refreshTokenIn } from '../lib/requests';
import { SEED_PASSWORD, seedEmail } from '../lib/seed';
import { ratio } from '../lib/stats';
import { measureWritePath } from '../lib/write-path';
import { r3PrimeMedians } from './query-ladder';

/** Sessions in the pool beyond one per connection: a connection never waits for a token. */
const SPARE_SESSIONS = 8;
const SETUP_PARALLEL = 8;

/**
 * The refresh pool: every refresh rotates its token, so each request must present the latest one.
 * autocannon's per-request hooks do it: `setupRequest` takes a session's latest token from the pool
 * (and remembers it in the connection's context), `onResponse` puts the rotated token back. A run
 * that ends with requests in flight leaves their tokens unanswered; they are presented once more
 * right after the run (within REFRESH_REUSE_GRACE_SECONDS, so the service hands back the same
 * successor instead of calling it reuse) and rejoin the pool.
 */
class RefreshPool {
  private readonly free: string[];
  private readonly inFlight = new Set<string>();
  lost = 0;

  constructor(tokens: string[]) {
    this.free = [...tokens];
  }

  get size(): number {
    return this.free.length + this.inFlight.size;
  }

  request(): LoadRequest {
    return {
      tag: 'refresh',
      build: (context) => {
        // Empty only once failed refreshes have eaten sessions: the request then counts as unexpected.
        const token = this.free.shift() ?? 'refresh-pool-ran-dry';
        this.inFlight.add(token);
        context.token = token;
        return { body: graphQLBody(REFRESH_MUTATION, { refreshToken: token }) };
      },
      expect: hasAccessToken,
      after: (_status, text, context) => {
        const old = context.token as string;
        this.inFlight.delete(old);
        const next = refreshTokenIn(text);
        if (next) this.free.push(next);
        else this.lost++;
      },
    };
  }

  /** Tokens whose answers the end of a run cut off, presented again so their sessions live on. */
  async settle(origin: string): Promise<void> {
    const pending = [...this.inFlight];
    this.inFlight.clear();
    await inParallel(pending, SETUP_PARALLEL, async (token) => {
      const next = refreshTokenIn(JSON.stringify((await gql(origin, REFRESH_MUTATION, { refreshToken: token })).data ?? {}));
      if (next) this.free.push(next);
      else this.lost++;
    });
  }
}

export async function refreshScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const C = options.queryConnections;
  const needed = C + SPARE_SESSIONS;
  const tokens = ctx.refreshTokens.splice(0, needed);
  if (tokens.length < needed) {
    ctx.log(`refresh: logging in ${needed - tokens.length} more sessions`);
    const extra = await inParallel(Array.from({ length: needed - tokens.length }, (_, i) => i), SETUP_PARALLEL, async (i) => {
      const result = await gql(ctx.service.origin, LOGIN_MUTATION, { input: { identifier: seedEmail((i % ctx.loginAccounts) + 1), password: SEED_PASSWORD } });
      const token = refreshTokenIn(JSON.stringify(result.data ?? {}));
      if (!token) throw new Error(`login for the refresh pool failed: ${JSON.stringify(result.errors)}`);
      return token;
    });
    tokens.push(...extra);
  }

  const pool = new RefreshPool(tokens);
  ctx.log(`refresh: ${pool.size} sessions, ${options.runs} x ${options.queryRunS}s, ${C} connections, interleaved with R5`);
  const request = pool.request();
  const { path: refresh, r5, cpu } = await measureWritePath(ctx, {
    scenario: 'refreshToken (rotating, latest token per request)',
    request,
    afterRun: () => pool.settle(ctx.service.origin),
    note: () => (pool.lost ? `${pool.lost} sessions lost` : undefined),
  });
  const r3p = await r3PrimeMedians(ctx);
  const row = ctx.rows[ctx.rows.length - 1];
  row.note = [row.note, `vs R3' (a single read): ${ratio(refresh.rps, r3p.rps).toFixed(2)}`].filter(Boolean).join('; ');
  ctx.raw.refresh = { connections: C, sessions: tokens.length, lostSessions: pool.lost, refresh, r5, r3p, cpuPerRequestMs: cpu };
}
