import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** What `npm run build` (run by `pretest`) compiles: the service exactly as it is deployed. */
const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');
const DEFAULT_START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;

const children = new Set<ChildProcess>();

/** Kills whatever service process a test left running (a failed test must not hold Jest open). */
export function killServiceProcesses(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
}

/** A free TCP port on loopback (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** The GraphQL endpoint from the ready line (https when the service was given a certificate). */
  url: string;
  origin: string;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr together, in the order they arrived. */
  output(): string;
  /** Sends a signal (unless the process has exited) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServiceProcessOptions {
  timeoutMs?: number;
}

interface Spawned {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  output(): string;
  exited: Promise<number | null>;
}

/** `node dist/src/main.js` with exactly `env` (plus PATH and HOME): nothing of the test's own environment leaks in. */
function spawnService(env: Record<string, string | undefined>): Spawned {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  let all = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    all += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    all += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, output: () => all, exited };
}

/**
 * Runs the compiled service as an operator would (`env` is its whole environment: start from
 * `testEnv()` for the test database) and waits for its ready line. PORT 0 is fine: the ready line
 * says where it listens.
 */
export async function startServiceProcess(env: Record<string, string | undefined>, options: number | ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const timeoutMs = (typeof options === 'number' ? options : options.timeoutMs) ?? DEFAULT_START_TIMEOUT_MS;
  const service = spawnService(env);
  const { child, exited } = service;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service not ready in ${timeoutMs} ms: ${service.output()}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      const match = /Bouncer ready at (\S+)/.exec(service.stdout());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}: ${service.stderr().trim()}`));
    });
  });
  return {
    child,
    url,
    origin: new URL(url).origin,
    stdout: service.stdout,
    stderr: service.stderr,
    output: service.output,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the compiled service expecting it to refuse to start; resolves with its exit code and output. */
export async function runServiceExpectingExit(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const { child, exited, stderr } = spawnService(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  const code = await exited;
  clearTimeout(timer);
  return { code, stderr: stderr() };
}
