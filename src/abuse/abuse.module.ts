import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { GraphQLExtensions } from '../app/http-server';
import type { Config } from '../config/config';
import { graphqlDocumentLimits } from './graphql-limits';
import { postgresStore, redisStore } from './limiter-store';
import { RateLimitThrottle } from './rate-limit.throttle';
import type { Throttle } from './throttle';

/** The throttle the service runs with (PostgreSQL-backed by default, Redis with REDIS_URL). */
export async function createThrottle(config: Config, dataSource: DataSource, logger: Logger): Promise<Throttle> {
  const store = config.redisUrl ? await redisStore(config.redisUrl, config.rateLimitKeyPrefix, logger) : postgresStore(dataSource, logger);
  return new RateLimitThrottle(store, config.limits, config.rateLimitKeyPrefix, logger);
}

/** GraphQL document limits (depth, aliases, tokens, cost, credential fields per document). */
export function graphqlLimits(config: Config): GraphQLExtensions {
  return graphqlDocumentLimits(config.limits);
}
