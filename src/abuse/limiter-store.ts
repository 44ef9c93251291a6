import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';

/** What one limiter counts: `points` per `duration` seconds, optionally blocking for `blockDuration` once exceeded. */
export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  duration: number;
  blockDuration?: number;
}

/** Where every counter lives: one shared store, so all instances behind a load balancer see the same counts. */
export interface LimiterStore {
  readonly kind: 'postgres' | 'redis';
  limiter(options: LimiterOptions): RateLimiterStoreAbstract;
  close(): Promise<void>;
}

/** Table created by the initial migration in rate-limiter-flexible's layout (never created at run time). */
const RATE_LIMIT_TABLE = 'rate_limits';
/** Expired rows are deleted this often; a row expired for an hour is certainly no longer read. */
const CLEANUP_INTERVAL_MS = 5 * 60 * 1000;
const CLEANUP_AGE_MS = 60 * 60 * 1000;
/** How long a start waits for Redis before serving anyway (logins then fail closed until it answers). */
const REDIS_START_WAIT_MS = 3000;
/** A counter request that cannot reach Redis this fast fails (closed) instead of hanging the login. */
const REDIS_CONNECT_TIMEOUT_MS = 2000;
const REDIS_MAX_RECONNECT_DELAY_MS = 2000;

/** PostgreSQL store on the service's own pool (TypeORM's pg Pool). */
export function postgresStore(dataSource: DataSource, logger: Logger): LimiterStore {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const limiters: RateLimiterPostgres[] = [];
  // One sweep for the shared table, owned here so close() can stop it (the library's own timer cannot be).
  const cleanup = setInterval(() => {
    const [first] = limiters as unknown as Array<{ clearExpired(expire: number): Promise<void> }>;
    first?.clearExpired(Date.now() - CLEANUP_AGE_MS).catch((error: unknown) => logger.warn({ err: error }, 'rate-limit cleanup failed'));
  }, CLEANUP_INTERVAL_MS);
  cleanup.unref();
  return {
    kind: 'postgres',
    limiter(options) {
      const limiter = new RateLimiterPostgres({
        ...options,
        storeClient: pool,
        storeType: 'pool',
        tableName: RATE_LIMIT_TABLE,
        tableCreated: true,
        clearExpiredByTimeout: false,
      });
      limiters.push(limiter);
      return limiter;
    },
    async close() {
      clearInterval(cleanup);
    },
  };
}

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
  return {
    kind: 'redis',
    limiter(options) {
      return new RateLimiterRedis({ ...options, storeClient: client, rejectIfRedisNotReady: true });
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
