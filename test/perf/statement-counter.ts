import { Client } from 'pg';
import Redis from 'ioredis';

/**
 * Counts what this process sends to PostgreSQL (every pg Client.query: TypeORM's, the pool's, the
 * BEGIN and COMMIT of transactions) and to Redis while `work` runs, by statement. The service under
 * test runs in this process (startTestServer), so these are its statements. The revocation poll is
 * background work on a timer, not part of any request: left out.
 */
const BACKGROUND = new Set(['revocations_since']);
/**
 * The mail sender's work on the outbox (claims, sent, failed, its LISTEN, the pruning): on its own
 * timer, not a request's. A request's own outbox insert (`WITH queued AS (INSERT INTO mail_outbox`)
 * is the request's work and stays counted.
 */
const BACKGROUND_TEXT = /^(UPDATE mail_outbox |DELETE FROM mail_outbox |LISTEN )/;

let pg: string[] | null = null;
let redis: string[] | null = null;

const originalQuery = Client.prototype.query;
Client.prototype.query = function counted(this: Client, ...args: unknown[]) {
  const first = args[0] as string | { name?: string; text?: string };
  const label = typeof first === 'string' ? first : (first?.name ?? first?.text ?? '?');
  if (pg && !BACKGROUND.has(label) && !BACKGROUND_TEXT.test(label.trim())) pg.push(label.replace(/\s+/g, ' ').trim().slice(0, 80));
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;

const originalSend = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function counted(this: Redis, command: { name: string }, ...rest: unknown[]) {
  if (redis && command?.name !== 'info') redis.push(command.name);
  return (originalSend as (...a: unknown[]) => unknown).call(this, command, ...rest);
} as typeof Redis.prototype.sendCommand;

export interface Counted<T> {
  result: T;
  /** PostgreSQL statements, in order (a statement's name when prepared, else its text). */
  pg: string[];
  /** Redis commands (a Lua script is one EVALSHA). */
  redis: string[];
}

/** Runs `work` (one request at a time: other traffic would be counted too) and counts its round trips. */
export async function counted<T>(work: () => Promise<T>): Promise<Counted<T>> {
  if (pg) throw new Error('counted() does not nest');
  pg = [];
  redis = [];
  try {
    const result = await work();
    return { result, pg, redis };
  } finally {
    pg = null;
    redis = null;
  }
}
