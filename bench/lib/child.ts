import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A message a child answers on its IPC channel (event-loop probe, bcrypt runner). */
export interface ChildMessage {
  id: number;
  type: string;
  [field: string]: unknown;
}

export interface ForkedChild {
  name: string;
  pid: number;
  process: ChildProcess;
  /** stdout and stderr so far (last few KB): said when the child fails. */
  output(): string;
  /** Sends a message and waits for the answer carrying the same id. */
  call<T = Record<string, unknown>>(type: string, payload?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface ForkOptions {
  name: string;
  script: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  execArgv?: string[];
  /** A line on stdout that says the child is serving; its first capture group is returned. */
  ready: RegExp;
  timeoutMs?: number;
}

const OUTPUT_KEEP_CHARS = 8_000;
/** SIGTERM first; a child that has not exited by then is killed (and said so once). */
const STOP_GRACE_MS = 5_000;
let warnedSlowStop = false;
const slowStopNames: string[] = [];

/** Children that ignored SIGTERM past the grace period (a shutdown problem worth reporting). */
export function slowStops(): string[] {
  return [...slowStopNames];
}
const live = new Set<ForkedChild>();

/** Every child still running (stopped on a crash or Ctrl-C so none outlives the bench). */
export function liveChildren(): ForkedChild[] {
  return [...live];
}

/** The event-loop probe preloaded into every child server (service and baselines). */
export const PROBE_SCRIPT = join(__dirname, 'event-loop-probe.js');

export async function forkChild(options: ForkOptions): Promise<{ child: ForkedChild; ready: string }> {
  const proc = fork(options.script, options.args ?? [], {
    env: options.env,
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);

  let nextId = 1;
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  proc.on('message', (message: ChildMessage) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.type === 'error') waiter.reject(new Error(`${options.name}: ${String(message.message)}`));
    else waiter.resolve(message);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let stopping = false;
  proc.once('exit', (code, signal) => {
    live.delete(child);
    if (!stopping) process.stderr.write(`[bench] ${options.name} (pid ${proc.pid}) exited on its own (${code ?? signal}); its last output:\n${output.slice(-2000)}\n`);
    for (const waiter of pending.values()) waiter.reject(new Error(`${options.name} exited (${code ?? signal})`));
    pending.clear();
  });

  const child: ForkedChild = {
    name: options.name,
    pid: proc.pid!,
    process: proc,
    output: () => output,
    call: (type, payload = {}, timeoutMs = 600_000) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name}: no answer to ${type} in ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        proc.send({ id, type, ...payload });
      }),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      stopping = true;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        slowStopNames.push(options.name);
        if (!warnedSlowStop) {
          warnedSlowStop = true;
          process.stderr.write(`[bench] ${options.name} did not exit within ${STOP_GRACE_MS} ms of SIGTERM: killed (reported once)\n`);
        }
        proc.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(child);

  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${options.name} did not start within ${options.timeoutMs ?? 60_000} ms:\n${output}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (): void => {
      const match = options.ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve(match[1] ?? match[0]);
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before it was ready (${code ?? signal}):\n${output}`));
    });
  });
  return { child, ready };
}

/** Peak and current resident set of a process, MB (Linux /proc; NaN elsewhere). */
export function memoryOf(pid: number): { peakRssMb: number; rssMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return { peakRssMb: Number.NaN, rssMb: Number.NaN };
  }
}
