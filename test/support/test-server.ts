import { join } from 'node:path';
import { startBouncer, type RunningBouncer } from '../../src/app/bootstrap';
import type { KernelOptions } from '../../src/app/kernel';
import { loadConfig } from '../../src/app/config';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> & { code?: string } }>;
}

export interface TestServer {
  url: string;
  origin: string;
  running: RunningBouncer;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/** Base environment of a test instance: the test database, cheap bcrypt, a random port on loopback. */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is unset: run the tests through jest (global-setup)');
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    BCRYPT_ROUNDS: '4',
    DATA_DIR: join(process.cwd(), '.data', 'test'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REVOCATION_POLL_MS: '500',
    ...overrides,
  };
}

/** Starts the real service (HTTP on port 0, real PostgreSQL) in this process. */
export async function startTestServer(overrides: Record<string, string | undefined> = {}, kernel: KernelOptions = {}): Promise<TestServer> {
  const config = loadConfig(testEnv(overrides));
  const running = await startBouncer(config, undefined, kernel);
  const origin = new URL(running.url).origin;
  return {
    url: running.url,
    origin,
    running,
    gql: (query, variables, token, headers) => postGraphQL(running.url, query, variables, token, headers),
    stop: () => running.stop(),
  };
}

/**
 * startTestServer for a file that starts servers inside its tests: every one it started is stopped
 * after the file's tests (call at the top level of the file or of a describe).
 */
export function trackedServers(): (overrides?: Record<string, string | undefined>, kernel?: KernelOptions) => Promise<TestServer> {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  return async (overrides = {}, kernel = {}) => {
    const server = await startTestServer(overrides, kernel);
    servers.push(server);
    return server;
  };
}

export async function postGraphQL<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: { data?: T | null; errors?: GraphQLResponse<T>['errors'] } = {};
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
}

/** The `extensions.code` of the first error, or undefined. */
export function codeOf(response: GraphQLResponse<unknown>): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}
