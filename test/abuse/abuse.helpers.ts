import { randomBytes } from 'node:crypto';
import { LOGIN, uniqueEmail } from '../support/accounts';
import { auditTypes } from '../support/audit';
import { freePort } from '../support/service-process';
import { postGraphQL, type GraphQLResponse, type TestServer } from '../support/test-server';
import { sleep } from '../support/time';

/** @deprecated Import from test/support (service-process.ts, time.ts, audit.ts); kept so older imports still compile. */
export { auditTypes, freePort, sleep };

/**
 * Rate-limit counters live in the one test database every test file shares, and every test client
 * is 127.0.0.1: a key prefix of its own keeps one test's counters from spending another's budget.
 */
export function isolated(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { RATE_LIMIT_KEY_PREFIX: `t-${randomBytes(6).toString('hex')}`, ...overrides };
}

export async function login(
  target: TestServer | string,
  identifier: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<Record<string, any>>> {
  const url = typeof target === 'string' ? target : target.url;
  return postGraphQL<Record<string, any>>(url, LOGIN, { input: { identifier, password } }, undefined, headers);
}

export function wrongPassword(): string {
  return `Wr0ng-${randomBytes(6).toString('hex')}`;
}

export function unknownIdentifier(): string {
  return uniqueEmail('nobody');
}

export function retryAfterOf(res: GraphQLResponse<unknown>): unknown {
  return res.errors?.[0]?.extensions?.retryAfter;
}
