import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Sql } from '../db/sql';
import type { CounterSpec, SettleMode } from './counter-spec';
import { postgresSteps, type StoreSteps } from './throttle-steps';

export type { CounterSpec, SettleMode } from './counter-spec';

/**
 * Where every counter lives: one shared store, so all instances behind a load balancer see the
 * same counts. Each operation is one round trip, whatever number of policies it covers, and is
 * atomic per counter (PostgreSQL: one stored-function call; Redis: one Lua script).
 */
export interface LimiterStore {
  readonly kind: 'postgres' | 'redis';
  /** Counts one point on each spec in order; on a refusal hands back what it took and returns the ms to wait; null when all were taken. */
  begin(specs: CounterSpec[]): Promise<number | null>;
  /** Settles each spec as its mode says (refund, reset, keep), then `begin`s `then` in the same round trip. */
  settle(settled: Array<{ spec: CounterSpec; mode: SettleMode }>, then: CounterSpec[]): Promise<number | null>;
  /** A failure: holds and locks as the specs say; whether a lock was placed first in its period. */
  fail(specs: CounterSpec[]): Promise<boolean>;
  close(): Promise<void>;
  /** PostgreSQL only: begin and settle as parts of a caller's statement (src/abuse/throttle-steps.ts). */
  readonly steps?: StoreSteps;
}

/** Expired rows are deleted this often; a row expired for an hour is certainly no longer read. */
const CLEANUP_INTERVAL_MS = 5 * 60 * 1000;
const CLEANUP_AGE_MS = 60 * 60 * 1000;
/** How long a start waits for Redis before serving anyway (logins then fail closed until it answers). */
const REDIS_START_WAIT_MS = 3000;
/** A counter request that cannot reach Redis this fast fails (closed) instead of hanging the login. */
const REDIS_CONNECT_TIMEOUT_MS = 2000;
const REDIS_MAX_RECONNECT_DELAY_MS = 2000;

const beginArgs = (specs: CounterSpec[]): unknown[] => [
  specs.map((s) => s.count),
  specs.map((s) => s.hold),
  specs.map((s) => s.points),
  specs.map((s) => s.windowMs),
  specs.map((s) => s.capMs),
  specs.map((s) => s.lock !== null),
];

const msOrNull = (value: string | number | null | undefined): number | null => (value === null || value === undefined ? null : Number(value));

/** PostgreSQL store: the rate_limits table and the functions of ThrottleFunctions1733200000000 (and its refund rows), on the service's own pool. */
export function postgresStore(sql: Sql, logger: Logger): LimiterStore {
  const cleanup = setInterval(() => {
    // Refunds locked by a take are its to fold (SKIP LOCKED): the cleanup never waits behind one.
    sql
      .many(
        'throttle_cleanup',
        `WITH refunds AS (
           DELETE FROM rate_limit_refunds f
            USING (SELECT ctid FROM rate_limit_refunds WHERE expire < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $1 FOR UPDATE SKIP LOCKED) old
            WHERE f.ctid = old.ctid
         )
         DELETE FROM rate_limits WHERE expire < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $1`,
        [CLEANUP_AGE_MS],
      )
      .catch((error: unknown) => logger.warn({ err: error }, 'rate-limit cleanup failed'));
  }, CLEANUP_INTERVAL_MS);
  cleanup.unref();
  return {
    kind: 'postgres',
    steps: postgresSteps,
    async begin(specs) {
      if (specs.length === 0) return null;
      const row = await sql.one<{ wait: string | null }>('throttle_begin', 'SELECT throttle_begin($1, $2, $3, $4, $5, $6) AS wait', beginArgs(specs));
      return msOrNull(row?.wait);
    },
    async settle(settled, then) {
      if (settled.length === 0 && then.length === 0) return null;
      const row = await sql.one<{ wait: string | null }>(
        'throttle_settle',
        'SELECT throttle_settle($1, $2, $3, $4, $5, $6, $7, $8, $9) AS wait',
        [settled.map((s) => s.spec.count), settled.map((s) => s.spec.hold), settled.map((s) => s.mode), ...beginArgs(then)],
      );
      return msOrNull(row?.wait);
    },
    async fail(specs) {
      const held = specs.filter((s) => s.hold !== null);
      if (held.length === 0) return false;
      const row = await sql.one<{ locked: boolean }>('throttle_fail', 'SELECT throttle_fail($1, $2, $3, $4, $5, $6, $7) AS locked', [
        held.map((s) => s.count),
        held.map((s) => s.hold),
        held.map((s) => s.lock),
        held.map((s) => s.points),
        held.map((s) => s.lockMs),
        held.map((s) => s.delayAfterFailures),
        held.map((s) => s.delayMaxMs),
      ]);
      return row?.locked === true;
    },
    async close() {
      clearInterval(cleanup);
    },
  };
}

/*
 * The Redis store's steps, one Lua script each (atomic, one round trip). Counters keep
 * rate-limiter-flexible's layout: an integer with a time to live. An absent hold or lock key is ''.
 */
const LUA_PRELUDE = `
local function held(k)
  if k == '' then return 0 end
  local t = redis.call('pttl', k)
  if t > 0 then return t end
  return 0
end
local function giveBack(k)
  local v = tonumber(redis.call('get', k))
  if v and v > 0 then redis.call('decr', k) end
end
-- KEYS[first..] hold (count, hold) pairs; ARGV[argFirst..] (points, window ms, cap ms) triples.
local function begin(first, n, argFirst)
  for i = 1, n do
    local count, hold = KEYS[first + 2 * i - 2], KEYS[first + 2 * i - 1]
    local a = argFirst + 3 * i - 3
    local points, window, cap = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local h = held(hold)
    if h > 0 then
      for j = 1, i - 1 do giveBack(KEYS[first + 2 * j - 2]) end
      return h
    end
    redis.call('set', count, 0, 'PX', window, 'NX')
    local taken = redis.call('incr', count)
    local ttl = redis.call('pttl', count)
    if ttl < 0 then
      redis.call('pexpire', count, window)
      ttl = window
    end
    if taken > points then
      for j = 1, i do giveBack(KEYS[first + 2 * j - 2]) end
      return math.max(math.min(ttl, cap), 1)
    end
  end
  return -1
end
`;

/** KEYS: (count, hold) per spec; ARGV: (points, window, cap) per spec. */
const LUA_BEGIN = `${LUA_PRELUDE}
return begin(1, #KEYS / 2, 1)`;

/** ARGV[1] = settled pairs n; KEYS: n (count, hold) pairs, then the pairs to begin; ARGV[2..n+1] modes, then triples. */
const LUA_SETTLE = `${LUA_PRELUDE}
local n = tonumber(ARGV[1])
for i = 1, n do
  local mode, count, hold = ARGV[1 + i], KEYS[2 * i - 1], KEYS[2 * i]
  if mode == 'refund' then giveBack(count)
  elseif mode == 'reset' then
    redis.call('del', count)
    if hold ~= '' then redis.call('del', hold) end
  end
end
return begin(2 * n + 1, (#KEYS - 2 * n) / 2, n + 2)`;

/** KEYS: (count, hold, lock) per spec; ARGV: (points, lock ms, delay after, delay max ms) per spec, 0 for none. */
const LUA_FAIL = `
local locked = 0
for i = 1, #KEYS / 3 do
  local count, hold, lock = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local points, lockMs, after, maxMs = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  local failures = tonumber(redis.call('get', count)) or 1
  local holdMs = 0
  if lockMs > 0 and failures >= points then
    redis.call('set', lock, 0, 'PX', lockMs, 'NX')
    if redis.call('incr', lock) == 1 then locked = 1 end
    holdMs = lockMs
    redis.call('del', count)
  elseif after > 0 and failures >= after then
    holdMs = math.floor(math.min(math.pow(2, failures - after) * 1000, maxMs))
  end
  if holdMs > 0 then redis.call('set', hold, 1, 'PX', holdMs) end
end
return locked`;

type Script = (...args: Array<string | number>) => Promise<number>;

/** Redis store (REDIS_URL): its own connection, released by close(). */
export async function redisStore(url: string, keyPrefix: string, logger: Logger): Promise<LimiterStore> {
  const client = new Redis(url, {
    connectionName: `${keyPrefix}:rate-limits`, // visible in CLIENT LIST
    // Queued commands would hold a login open for as long as Redis is away: fail at once instead.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, REDIS_MAX_RECONNECT_DELAY_MS),
  });
  let healthy = true;
  // Without a listener an unreachable Redis would crash the process; log each change of state once.
  client.on('error', (error: Error) => {
    if (healthy) logger.error({ err: error }, 'redis for rate limits is unreachable: logins fail closed');
    healthy = false;
  });
  client.on('ready', () => {
    if (!healthy) logger.info('redis for rate limits is reachable again');
    healthy = true;
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, REDIS_START_WAIT_MS);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  // EVALSHA with a fallback to EVAL; the key count is the first argument.
  client.defineCommand('throttleBegin', { lua: LUA_BEGIN });
  client.defineCommand('throttleSettle', { lua: LUA_SETTLE });
  client.defineCommand('throttleFail', { lua: LUA_FAIL });
  const run = (name: string, keys: string[], args: Array<string | number>): Promise<number> => {
    if (client.status !== 'ready') return Promise.reject(new Error('Redis connection is not ready'));
    return ((client as unknown as Record<string, Script>)[name])(keys.length, ...keys, ...args);
  };
  const pairs = (specs: CounterSpec[]): string[] => specs.flatMap((s) => [s.count, s.hold ?? '']);
  const triples = (specs: CounterSpec[]): number[] => specs.flatMap((s) => [s.points, s.windowMs, s.capMs]);
  const wait = (result: number): number | null => (Number(result) < 0 ? null : Number(result));
  return {
    kind: 'redis',
    async begin(specs) {
      if (specs.length === 0) return null;
      return wait(await run('throttleBegin', pairs(specs), triples(specs)));
    },
    async settle(settled, then) {
      if (settled.length === 0 && then.length === 0) return null;
      const keys = [...pairs(settled.map((s) => s.spec)), ...pairs(then)];
      return wait(await run('throttleSettle', keys, [settled.length, ...settled.map((s) => s.mode), ...triples(then)]));
    },
    async fail(specs) {
      const held = specs.filter((s) => s.hold !== null);
      if (held.length === 0) return false;
      const keys = held.flatMap((s) => [s.count, s.hold!, s.lock ?? '']);
      const args = held.flatMap((s) => [s.points, s.lockMs ?? 0, s.delayAfterFailures ?? 0, s.delayMaxMs ?? 0]);
      return Number(await run('throttleFail', keys, args)) === 1;
    },
    async close() {
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}
