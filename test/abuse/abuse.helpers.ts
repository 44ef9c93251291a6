import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOGIN, uniqueEmail } from '../support/accounts';
import { freePort } from '../support/service-process';
import { postGraphQL, testEnv, type GraphQLResponse, type TestServer } from '../support/test-server';

export { freePort };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

export async function auditTypes(server: TestServer, userId: string): Promise<string[]> {
  const rows: Array<{ type: string }> = await server.running.services.dataSource.query(
    'SELECT type FROM audit_events WHERE user_id = $1 ORDER BY id',
    [userId],
  );
  return rows.map((r) => r.type);
}

/**
 * Compiles the service once for this test file into a folder of its own (inside the repository so
 * node_modules resolves): others may be editing src/ or building dist/ meanwhile.
 */
export async function buildService(): Promise<string> {
  const outDir = join(process.cwd(), '.data', `abuse-build-${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(outDir, { recursive: true });
  // tsc exits non-zero for a type error in a file someone is editing yet still emits: judge by the output.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: process.cwd() }).catch(() => undefined);
  const main = join(outDir, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`build produced no ${main}`);
  copyFileSync(join(process.cwd(), 'src', 'password', 'common-passwords.txt'), join(outDir, 'src', 'password', 'common-passwords.txt'));
  for (const dir of [['mail', 'templates'], ['email', 'pages']]) cpSync(join(process.cwd(), 'src', ...dir), join(outDir, 'src', ...dir), { recursive: true });
  return outDir;
}

export function removeBuild(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
}

export interface ChildService {
  url: string;
  origin: string;
  process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

const CHILD_START_TIMEOUT_MS = 30_000;

/** Runs `node <build>/src/main.js` with the test environment on a port chosen here. */
export async function startChild(outDir: string, overrides: Record<string, string | undefined> = {}): Promise<ChildService> {
  const port = await freePort();
  const env = { ...testEnv({ PORT: String(port), ...overrides }), PATH: process.env.PATH } as NodeJS.ProcessEnv;
  const child = spawn(process.execPath, [join(outDir, 'src', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
  while (!/Bouncer ready at/.test(output)) {
    if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start: ${output}`);
    }
    await sleep(50);
  }
  const scheme = overrides.TLS_CERT_FILE ? 'https' : 'http';
  const origin = `${scheme}://127.0.0.1:${port}`;
  return {
    url: `${origin}/graphql`,
    origin,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
